#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_pe2_netlist.sh - the DSP PE pair, behavioural and after iCE40 synthesis;
# the ECP5 product register.
#
# 1. tests/tb_pe2.v checks rtl/qa_pe2.v with the behavioural multiplier twin
#    (rtl/prim/qa_mul8x2.v) against the dot products it computes itself.
# 2. Yosys synthesises qa_pe2 with the iCE40 multiplier (rtl/prim/ice40/
#    qa_mul8x2.v: one SB_MAC16 in dual signed 8x8 mode) for the UP5K, writes
#    the netlist of SB_LUT4 / SB_CARRY / SB_DFF* / SB_MAC16 cells, and the same
#    bench checks that netlist under Icarus with Yosys's ice40/cells_sim.v.
# 3. tests/tb_mul_reg.v checks qa_mul_reg, the ECP5 PE's registered
#    multiplier, on every pair of int8 operands: the twin (rtl/prim/
#    qa_mul_reg.v), and the ECP5 file (rtl/prim/ecp5/qa_mul_reg.v: one
#    MULT18X18D with its output register) over tests/mult18x18d_model.v, a
#    model of that one block configuration (Yosys has only a black box of
#    MULT18X18D, so this checks the wrapper's wiring, sign extension and
#    parameters, not Lattice's silicon).
#
# usage: tests/test_pe2_netlist.sh [BUILD_DIR]   (needs yosys and iverilog)
set -u
build=${1:-build}
work="$build/pe2-netlist"
mkdir -p "$work"
YOSYS=${YOSYS:-yosys}
IVERILOG=${IVERILOG:-iverilog}
pass=0
fail=0

result() { # name, log [bench]
	local tb=${3:-tb_pe2}
	if grep -q "^$tb: PASS" "$2"; then
		echo "PASS $1: $(grep "^$tb:" "$2")"; pass=$((pass + 1))
	else
		echo "FAIL $1:"; tail -n 20 "$2"; fail=$((fail + 1))
	fi
}

# 1. behavioural
if $IVERILOG -g2005 -Wall -o "$work/beh.vvp" -s tb_pe2 tests/tb_pe2.v rtl/qa_pe2.v \
	rtl/prim/qa_mul8x2.v >"$work/beh.log" 2>&1; then
	vvp -n "$work/beh.vvp" +seed=11 +tiles=2000 >>"$work/beh.log" 2>&1
fi
result pe2_behavioural "$work/beh.log"

# 2. post-synthesis netlist
if ! command -v "$YOSYS" >/dev/null; then
	echo "FAIL pe2_netlist: $YOSYS not found (bash mk/fpga-deps.sh)"; fail=$((fail + 1))
else
	share=$("$YOSYS"-config --datdir 2>/dev/null || echo /usr/share/yosys)
	if $YOSYS -q -l "$work/synth.log" -p "read_verilog rtl/qa_pe2.v rtl/prim/ice40/qa_mul8x2.v; \
		chparam -set ACC_W 32 qa_pe2; synth_ice40 -top qa_pe2; rename qa_pe2 qa_pe2_net; \
		write_verilog -noattr $work/qa_pe2_net.v" >/dev/null 2>&1 &&
		grep -q 'SB_MAC16' "$work/qa_pe2_net.v" &&
		$IVERILOG -g2005 -DNETLIST -DNO_ICE40_DEFAULT_ASSIGNMENTS -o "$work/net.vvp" -s tb_pe2 \
			tests/tb_pe2.v "$work/qa_pe2_net.v" "$share/ice40/cells_sim.v" >"$work/net.log" 2>&1; then
		vvp -n "$work/net.vvp" +seed=12 +tiles=2000 >>"$work/net.log" 2>&1
		echo "  netlist cells: $(sed -n '/Printing statistics/,$p' "$work/synth.log" | grep -E '^ +SB_[A-Z0-9_]+ +[0-9]+' | awk '{printf "%s %s  ", $1, $2}')"
	else
		echo "synthesis or compile failed; see $work/synth.log" >"$work/net.log"
		tail -n 20 "$work/synth.log" >>"$work/net.log" 2>/dev/null
	fi
	result pe2_netlist_ice40 "$work/net.log"
fi

# 3. the ECP5 registered multiplier
for v in twin ecp5; do
	if [ $v = twin ]; then srcs="rtl/prim/qa_mul_reg.v"; else
		srcs="rtl/prim/ecp5/qa_mul_reg.v tests/mult18x18d_model.v"; fi
	# shellcheck disable=SC2086
	if $IVERILOG -g2005 -Wall -o "$work/mul_$v.vvp" -s tb_mul_reg tests/tb_mul_reg.v $srcs \
		>"$work/mul_$v.log" 2>&1; then
		vvp -n "$work/mul_$v.vvp" +seed=13 >>"$work/mul_$v.log" 2>&1
	fi
	result "mul_reg_$v" "$work/mul_$v.log" tb_mul_reg
done

echo "$pass passed, $fail failed"
((fail == 0))
