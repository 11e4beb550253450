#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# area.sh - per-module iCE40 (or ECP5) cell counts of qa_chip with a board's parameters.
#
# Synthesises qa_chip (not the board shim: no PLL, no pins) with the chip
# parameters of boards/BOARD.mk, keeping the hierarchy (-noflatten) so that
# every module is counted on its own, and prints one line per module: LUT4,
# carry cells, flip-flops, block RAMs, DSPs, SPRAMs, and how many instances
# the design has. Then, unless --hier-only, synthesises it flattened (as
# mk/fpga.mk does) and prints the totals; cross-module optimisation makes the
# flat figure a little smaller than the sum of the modules. A figure, not a
# test: it never fails on size.
#
# usage: tests/area.sh [--board B] [--hier-only] [--out DIR] [-- extra synth options]
#        e.g. tests/area.sh --board icebreaker -- -dsp
set -eu
board=icebreaker
hier_only=0
out=build-area/area
extra=()
while (($#)); do
	case $1 in
	--board) board=$2; shift 2 ;;
	--hier-only) hier_only=1; shift ;;
	--out) out=$2; shift 2 ;;
	--) shift; extra=("$@"); break ;;
	-h | --help) sed -n '3,16p' "$0"; exit 0 ;;
	*) echo "area.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
YOSYS=${YOSYS:-yosys}
[ -f "boards/$board.mk" ] || { echo "area.sh: no boards/$board.mk" >&2; exit 2; }

# the board's variables, read by make itself
vars=$(printf 'include boards/%s.mk\nall:\n\t@echo "$(BOARD_FAMILY)|$(BOARD_ROWS)|$(BOARD_COLS)|$(BOARD_CLK_HZ)|$(BOARD_BAUD)|$(BOARD_PARAMS)"\n' \
	"$board" | make -s --no-print-directory -f -)
IFS='|' read -r family rows cols clk baud params <<<"$vars"
chparam="-set ROWS $rows -set COLS $cols -set CLK_HZ $clk -set BAUD $baud"
for p in $params; do chparam="$chparam -set ${p%%=*} ${p#*=}"; done

srcs="rtl/qa_pe.v rtl/qa_pe2.v rtl/qa_array.v rtl/qa_requant.v rtl/qa_ram.v rtl/qa_wram_sp.v
      rtl/qa_fifo.v rtl/qa_core.v rtl/qa_uart_rx.v rtl/qa_uart_tx.v rtl/qa_crc32.v
      rtl/qa_cobs_dec.v rtl/qa_cobs_enc.v rtl/qa_link.v rtl/qa_chip.v"
if [ "$family" = ice40 ]; then
	srcs="$srcs rtl/prim/ice40/qa_mul8x2.v rtl/prim/ice40/qa_spram.v rtl/prim/qa_mul_reg.v"
	synth=synth_ice40
else
	srcs="$srcs rtl/prim/qa_mul8x2.v rtl/prim/qa_spram.v rtl/prim/ecp5/qa_mul_reg.v"
	synth=synth_ecp5
fi
srcs=$(echo $srcs)
mkdir -p "$out"
echo "board $board ($family): qa_chip $chparam"
echo "synth: $synth ${extra[*]:-}   (logs in $out/)"

# one table from a yosys stat log: module, count per cell class, instances
table() {
	awk '
	function short(m) { sub(/^\$paramod\$[0-9a-f]*\\/, "", m); sub(/^\$paramod\\/, "", m); sub(/\\.*/, "", m); return m }
	/^=== design hierarchy ===/ { cur = ""; hier = 1; next }
	/^=== / { cur = $2; order[++n] = cur; next }
	hier && /^ +[^ ]+ +[0-9]+$/ {
	  # indentation gives the depth; instances multiply along the path
	  match($0, /^ */); d = int((RLENGTH - 1) / 2); k = $1; seen = 1
	  mult[d] = $2 * ((d > 1) ? mult[d - 1] : 1); par[d] = k
	  inst[k] += mult[d]; if (d > 1 && !(k in parent)) parent[k] = short(par[d - 1])
	  next
	}
	hier && /^$/ && seen { hier = 0 }
	cur != "" && /^ +[A-Za-z0-9_$]+ +[0-9]+$/ {
	  c = $1; v = $2
	  if (c ~ /LUT4$/) lut[cur] += v
	  else if (c ~ /CARRY|CCU2C/) car[cur] += v
	  else if (c ~ /DFF|TRELLIS_FF/) ff[cur] += v
	  else if (c ~ /RAM40|DP16KD|PDPW16KD/) bram[cur] += v
	  else if (c ~ /MAC16|MULT18/) dsp[cur] += v
	  else if (c ~ /SPRAM/) spr[cur] += v
	}
	END {
	  printf "%-22s %5s %6s %6s %5s %5s %4s %4s\n", "module (in parent)", "inst", "LUT4", "CARRY", "FF", "BRAM", "DSP", "SPR"
	  for (i = 1; i <= n; i++) {
	    k = order[i]; c = inst[k]; if (c == "") c = 1
	    m = short(k); if (k in parent) m = parent[k] "/" m
	    printf "%-22s %5d %6d %6d %5d %5d %4d %4d\n", m, c, lut[k], car[k], ff[k], bram[k], dsp[k], spr[k]
	    tl += c * lut[k]; tc += c * car[k]; tf += c * ff[k]; tb += c * bram[k]; td += c * dsp[k]; ts += c * spr[k]
	  }
	  printf "%-22s %5s %6d %6d %5d %5d %4d %4d\n", "total", "", tl, tc, tf, tb, td, ts
	}' "$1"
}

$YOSYS -q -l "$out/hier.log" -p "read_verilog -noautowire $srcs; chparam $chparam qa_chip;
  $synth -top qa_chip -noflatten ${extra[*]:-}; tee -o $out/hier.stat stat" >/dev/null
echo "--- per module (-noflatten; inst = instances, the sum counts each)"
table "$out/hier.stat"

if [ $hier_only = 0 ]; then
	$YOSYS -q -l "$out/flat.log" -p "read_verilog -noautowire $srcs; chparam $chparam qa_chip;
	  $synth -top qa_chip ${extra[*]:-}; tee -o $out/flat.stat stat" >/dev/null
	echo "--- flattened (as mk/fpga.mk synthesises it)"
	table "$out/flat.stat" | tail -n 1
fi
