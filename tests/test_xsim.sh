#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_xsim.sh - cross-check the Verilator model with Icarus Verilog.
#
# For each array shape: test_rtl runs random GEMMs on the Verilator model
# (checked against the golden model) and records the core's command and
# response byte streams; tests/tb_core.v replays the commands into the same
# RTL under Icarus, with random input gaps and output backpressure, and
# compares every response byte.
#
# usage: tests/test_xsim.sh BUILD_DIR [RxC...]
set -u
build=${1:?usage: test_xsim.sh BUILD_DIR [RxC...]}
shift
models=("$@")
((${#models[@]})) || models=(2x2 4x8)
work=$(mktemp -d /tmp/qa_xsim.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0
fail=0
for m in "${models[@]}"; do
	r=${m%x*}
	c=${m#*x}
	name="xsim_$m"
	if ! "$build/tests/test_rtl" -q --model "$m" --count 40 --random-only \
		--seed 4242 --record "$work/$m" >"$work/$m.vl.log" 2>&1; then
		echo "FAIL $name: Verilator run failed:"; cat "$work/$m.vl.log"
		fail=$((fail + 1)); continue
	fi
	if ! iverilog -g2005 -o "$work/$m.vvp" -s tb_core -Ptb_core.ROWS="$r" \
		-Ptb_core.COLS="$c" tests/tb_core.v rtl/*.v >"$work/$m.iv.log" 2>&1; then
		echo "FAIL $name: iverilog:"; cat "$work/$m.iv.log"
		fail=$((fail + 1)); continue
	fi
	out=$(vvp -n "$work/$m.vvp" +cmd="$work/$m.cmd.hex" +rsp="$work/$m.rsp.hex" +seed=7 2>&1)
	echo "$out" | sed 's/^/  /'
	if echo "$out" | grep -q '^tb_core: PASS'; then
		echo "PASS $name"; pass=$((pass + 1))
	else
		echo "FAIL $name: Icarus replay differs from the Verilator recording"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
((fail == 0))
