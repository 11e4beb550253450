#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_link.sh - the wire protocol in the RTL (docs/protocol.md).
#
#   lint    verilator --lint-only -Wall and iverilog -g2005 -Wall on the link
#           modules and qa_chip for every parameter set tested here and every
#           simulator array shape; parameter sets that must not elaborate
#           (too few clocks per bit, a baud rate more than 2% off, ...)
#   crc     tests/tb_crc.v: qa_crc32 against the CRC-32 check values
#   uart    tests/tb_uart.v at 12 Mbaud / 48 MHz, 3 Mbaud / 48 MHz and
#           3 Mbaud / 75 MHz: loopback, +-2% tolerance, wrong rates that
#           must fail loudly, glitches, framing errors, breaks, overruns
#   chip    tests/tb_chip.v plays frames from tests/linkvec.c bit by bit into
#           qa_chip's uart_rx_i and records uart_tx_o; linkvec decodes the
#           answers with the host codec (host/src/proto.c) and checks them
#           against the golden model: GEMMs and a resident network over
#           multi-frame loads and results, every status code, noise,
#           timeouts, a wrong baud rate, RESET, a host overrunning its window
#           and go-back-N recovery, the byte-exact example of the protocol
#           document, and short sessions at 3 Mbaud (48 and 75 MHz)
#
# usage: tests/test_link.sh [BUILD_DIR]     (tools: CC IVERILOG VVP VERILATOR)
# Prints PASS/FAIL per check and "N passed, N failed" last; exits 1 on failure.
set -u
build=${1:-build}
CC=${CC:-cc}
IVERILOG=${IVERILOG:-iverilog}
VVP=${VVP:-vvp}
VERILATOR=${VERILATOR:-verilator}
cd "$(dirname "$0")/.." || exit 1
mkdir -p "$build/link"
work=$(mktemp -d "${TMPDIR:-/tmp}/qa_link.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

ok() {
	echo "PASS $1"
	pass=$((pass + 1))
}
bad() {
	echo "FAIL $1${2:+: $2}"
	fail=$((fail + 1))
}

# Show a sub-run's log (its PASS/FAIL lines prefixed with its name) and add
# its checks to the totals; a run that ends without its summary line failed.
absorb() {
	local name=$1 log=$2 rc=$3 p f
	sed -E -e "/^(PASS|FAIL) /s/^(PASS|FAIL) /\1 $name\//" \
		-e '/^(PASS|FAIL) /!s/^/  /' "$log" | grep -vE '^  [0-9]+ passed, [0-9]+ failed$'
	p=$(grep -cE '^PASS ' "$log")
	f=$(grep -cE '^FAIL ' "$log")
	pass=$((pass + p))
	fail=$((fail + f))
	if ! grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$log" || ((rc != 0 && f == 0)); then
		bad "$name" "did not finish (exit $rc)"
	fi
}

CORE="rtl/qa_pe.v rtl/qa_array.v rtl/qa_requant.v rtl/qa_ram.v rtl/qa_fifo.v rtl/qa_core.v
      rtl/prim/qa_mul_reg.v"
LINK="rtl/qa_uart_rx.v rtl/qa_uart_tx.v rtl/qa_crc32.v rtl/qa_cobs_dec.v rtl/qa_cobs_enc.v
      rtl/qa_link.v rtl/qa_chip.v"
# shellcheck disable=SC2086
RTL=$(echo $CORE $LINK)

# the chip configurations simulated below: name, CLK_HZ, BAUD, MAX_PAYLOAD,
# RXBUF_BYTES, TIMEOUT_CYCLES, NL_MAX (RXQ_DEPTH 8, a 4x4 array, core
# defaults otherwise; NL_MAX 0 is the iCEBreaker's core without a table)
CHIPS=(
	"small12 48000000 12000000 64 256 4000"
	"notable12 48000000 12000000 64 256 4000 0"
	"default12 48000000 12000000 1024 4096 480000"
	"default3 48000000 3000000 1024 4096 480000"
	"fast3 75000000 3000000 1024 4096 750000"
)

# ---- lint ------------------------------------------------------------------------
lint_one() { # name top params...
	local name=$1 top=$2
	shift 2
	local g=() p=() a
	for a in "$@"; do
		g+=("-G$a")
		p+=("-P$top.$a")
	done
	# shellcheck disable=SC2086
	if ! $VERILATOR --lint-only -Wall $RTL --top-module "$top" "${g[@]}" >"$work/lint.log" 2>&1; then
		bad "lint_verilator_$name" "$(head -n 5 "$work/lint.log")"
	else
		ok "lint_verilator_$name"
	fi
	# shellcheck disable=SC2086
	$IVERILOG -g2005 -Wall -o "$work/lint.vvp" -s "$top" "${p[@]}" $RTL >"$work/lint.log" 2>&1
	if grep -qiE 'warning|error' "$work/lint.log"; then
		bad "lint_iverilog_$name" "$(head -n 5 "$work/lint.log")"
	else
		ok "lint_iverilog_$name"
	fi
}

for c in "${CHIPS[@]}"; do
	read -r n clk baud mp rb to nl <<<"$c"
	lint_one "chip_$n" qa_chip CLK_HZ="$clk" BAUD="$baud" MAX_PAYLOAD="$mp" RXBUF_BYTES="$rb" \
		TIMEOUT_CYCLES="$to" NL_MAX="${nl:-16}"
done
for shape in 1x1 2x2 4x8 8x8; do
	lint_one "chip_$shape" qa_chip ROWS="${shape%x*}" COLS="${shape#*x}"
done
lint_one chip_115200_at_12mhz qa_chip CLK_HZ=12000000 BAUD=115200
for rate in "48000000 12000000" "48000000 3000000" "75000000 3000000"; do
	read -r clk baud <<<"$rate"
	lint_one "uart_rx_${clk}_$baud" qa_uart_rx CLK_HZ="$clk" BAUD="$baud"
	lint_one "uart_tx_${clk}_$baud" qa_uart_tx CLK_HZ="$clk" BAUD="$baud"
done
for m in qa_crc32 qa_cobs_dec qa_cobs_enc qa_link; do
	lint_one "$m" "$m"
done

# parameter sets that elaboration must refuse, with the reason it must give
refuse() { # name expected-module params...
	local name=$1 want=$2
	shift 2
	local g=() a
	for a in "$@"; do g+=("-G$a"); done
	# shellcheck disable=SC2086
	if $VERILATOR --lint-only -Wall $RTL --top-module qa_chip "${g[@]}" >"$work/lint.log" 2>&1; then
		bad "elab_refuses_$name" "elaborated"
	elif grep -q "$want" "$work/lint.log"; then
		ok "elab_refuses_$name"
	else
		bad "elab_refuses_$name" "failed for another reason: $(head -n 3 "$work/lint.log")"
	fi
}
refuse 3_clocks_per_bit qa_error_uart_rx_needs_at_least_4_clocks_per_bit \
	CLK_HZ=48000000 BAUD=14000000
refuse baud_8_percent_off qa_error_uart_rx_baud_error_above_2_percent \
	CLK_HZ=48000000 BAUD=13000000
refuse timeout_below_two_bytes qa_error_chip_timeout_shorter_than_two_bytes \
	TIMEOUT_CYCLES=70
refuse max_payload_32 qa_error_link_max_payload_out_of_range_64_65535 MAX_PAYLOAD=32
refuse rxbuf_not_power_of_two qa_error_link_rxbuf_must_be_power_of_two_at_least_max_payload \
	RXBUF_BYTES=3000
refuse rxq_depth_3 qa_error_link_rxq_depth_must_be_power_of_two_4_to_128 RXQ_DEPTH=3

# ---- CRC and UART -------------------------------------------------------------
for b in 1 2 4 8; do
	if $IVERILOG -g2005 -Wall -Wno-timescale -o "$work/crc.vvp" -s tb_crc -Ptb_crc.BITS="$b" \
		tests/tb_crc.v rtl/qa_crc32.v >"$work/crc.log" 2>&1; then
		$VVP -n "$work/crc.vvp" >"$work/crc.log" 2>&1
		absorb "crc_bits$b" "$work/crc.log" $?
	else
		bad "crc_bits${b}_build" "$(head -n 5 "$work/crc.log")"
	fi
done

# rate, clock, and a rate the transmitter can make that the receiver must not take
for u in "12M 48000000 12000000 9600000" "3M 48000000 3000000 2526316" \
	"3M_75MHz 75000000 3000000 3409091"; do
	read -r n clk baud mis <<<"$u"
	if $IVERILOG -g2005 -Wall -Wno-timescale -o "$work/uart.vvp" -s tb_uart \
		-Ptb_uart.CLK_HZ="$clk" -Ptb_uart.BAUD="$baud" -Ptb_uart.BAUD_MIS="$mis" \
		tests/tb_uart.v rtl/qa_uart_rx.v rtl/qa_uart_tx.v >"$work/uart.log" 2>&1; then
		$VVP -n "$work/uart.vvp" >"$work/uart.log" 2>&1
		absorb "uart_$n" "$work/uart.log" $?
	else
		bad "uart_${n}_build" "$(head -n 5 "$work/uart.log")"
	fi
done

# ---- the chip through its UART pins ----------------------------------------------
# linkvec is built here from its sources (the host codec and the golden model),
# so this test does not need the Verilator models of libqarray
CFLAGS_T="-std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wshadow -Wstrict-prototypes
          -Wmissing-prototypes -Werror -O2 -g -Ihost/include -Ihost/src -Itests"
# shellcheck disable=SC2086
if ! $CC $CFLAGS_T -o "$work/linkvec" tests/linkvec.c host/src/proto.c host/src/ref.c \
	host/src/error.c >"$work/cc.log" 2>&1; then
	bad linkvec_build "$(head -n 10 "$work/cc.log")"
	echo "$pass passed, $fail failed"
	exit 1
fi

chip_case() { # chip-config-name case
	local cname=$1 cs=$2 c n clk baud mp rb to nl
	for c in "${CHIPS[@]}"; do
		read -r n clk baud mp rb to nl <<<"$c"
		[[ $n == "$cname" ]] && break
	done
	nl=${nl:-16}
	local cfg="4,4,32,1024,16384,64,$clk,$baud,$mp,$rb,8,$to,$nl"
	local vvp="$work/chip_$cname.vvp" name="chip_${cname}_$cs"
	if [[ ! -f $vvp ]]; then
		# shellcheck disable=SC2086
		if ! $IVERILOG -g2005 -Wall -Wno-timescale -o "$vvp" -s tb_chip -Ptb_chip.CLK_HZ="$clk" \
			-Ptb_chip.BAUD="$baud" -Ptb_chip.MAX_PAYLOAD="$mp" -Ptb_chip.RXBUF_BYTES="$rb" \
			-Ptb_chip.TIMEOUT_CYCLES="$to" -Ptb_chip.NL_MAX="$nl" tests/tb_chip.v $RTL >"$work/chip.log" 2>&1; then
			bad "${name}_build" "$(head -n 5 "$work/chip.log")"
			return
		fi
	fi
	"$work/linkvec" script "$cs" "$cfg" >"$work/$name.script"
	local out="$build/link/$name.out"
	$VVP -n "$vvp" +script="$work/$name.script" +out="$out" >"$work/$name.log" 2>&1
	if ! grep -q '^tb_chip: done' "$work/$name.log"; then
		bad "$name" "simulation did not finish: $(tail -n 3 "$work/$name.log")"
		return
	fi
	"$work/linkvec" check "$cs" "$cfg" "$out" >"$work/$name.check" 2>&1
	local rc=$?
	absorb "$name" "$work/$name.check" $rc
}

chip_case small12 gemm
chip_case small12 net
chip_case small12 errors
chip_case small12 overflow
chip_case default12 example
chip_case default12 runs
chip_case default3 basic
chip_case fast3 basic
chip_case notable12 notable

echo "$pass passed, $fail failed"
((fail == 0))
