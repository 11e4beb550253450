#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_emu_runner.sh - qarray-emu runs an unmodified program against the
# emulated board: the program (tests/ftdi_echo) is a separate process that
# finds the bridge through libusb/libftdi with libumockdev-preload in
# LD_PRELOAD, while qarray-emu's threads answer its usbdevfs ioctls. These
# checks wire the bridge to the C echo board (--echo); tests/test_usb.sh
# runs qarray itself against the chip's RTL.
#
# usage: tests/test_emu_runner.sh EMU ECHO
#   EMU  = path of qarray-emu, ECHO = path of the ftdi_echo test client
# Prints PASS/FAIL lines and "N passed, N failed"; exits non-zero on failure.
set -u
emu=${1:?usage: test_emu_runner.sh QARRAY_EMU FTDI_ECHO}
echo_bin=${2:?usage: test_emu_runner.sh QARRAY_EMU FTDI_ECHO}
pass=0
fail=0

# check NAME WANT_RC OUTPUT_REGEX -- COMMAND...
check() {
	local name=$1 want=$2 re=$3
	shift 4
	local out rc
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	if [[ $rc -eq $want ]] && grep -Eq -- "$re" <<<"$out"; then
		echo "PASS $name"
		pass=$((pass + 1))
	else
		echo "FAIL $name: exit $rc (want $want), output:"
		sed 's/^/    /' <<<"$out"
		fail=$((fail + 1))
	fi
}

check icebreaker_echo_inc 0 '^ok 20000 bytes' -- \
	"$emu" --board icebreaker --echo inc -- "$echo_bin" -x inc -n 20000 -r 3 ftdi
check ulx3s_echo_not 0 '^ok 5000 bytes' -- \
	"$emu" --board ulx3s --echo not -- "$echo_bin" -x not -n 5000 -r 2 ftdi
check ulx3s_by_serial_from_env 0 '^ok 1000 bytes' -- \
	"$emu" --echo same --board ulx3s --serial ULX-42 -- sh -c "exec '$echo_bin' -n 1000 ftdi:s:ULX-42,baud=3000000"
check list_sees_only_the_emulated_bridge 0 '^FT2232H +001:002 +serial=QAEMU-ICEBREAKER' -- \
	"$emu" --board icebreaker -- "$echo_bin" --list
check board_1M_host_1M 0 '^ok 3000 bytes' -- \
	"$emu" --echo same --board icebreaker --board-baud 1000000 -- "$echo_bin" -n 3000 ftdi:baud=1000000
check board_3M_host_12M_times_out 2 'QA_ERR_TIMEOUT: timed out: .*framing errors' -- \
	"$emu" --echo same --board icebreaker --board-baud 3000000 -- "$echo_bin" -n 200 ftdi:timeout=300
check ft231x_host_2M_board_3M_fails 2 'QA_ERR_TIMEOUT|mismatch' -- \
	"$emu" --echo same --board ulx3s -- "$echo_bin" -n 300 ftdi:baud=2000000,timeout=300
check mute_board_times_out 2 'received 0 of 64 bytes' -- \
	"$emu" --board ulx3s --echo mute -- "$echo_bin" -n 64 ftdi:timeout=300
check unplug_mid_write 2 'disconnected during a write \(5000 of 20000 bytes done\)' -- \
	"$emu" --echo same --board icebreaker --unplug-after-bytes 5000 -- "$echo_bin" -n 20000 ftdi
check no_such_serial 2 "no FTDI bridge with serial 'NOPE'; found: FT231X at 001:002" -- \
	"$emu" --board ulx3s -- "$echo_bin" -n 10 ftdi:s:NOPE
check realtime_ulx3s 0 '^ok 3000 bytes' -- \
	"$emu" --echo same --board ulx3s --realtime -- "$echo_bin" -n 3000 ftdi
check exit_status_passed_through 7 '' -- \
	"$emu" -- sh -c 'exit 7'
check signal_status_128_plus 143 '' -- \
	"$emu" -- sh -c 'kill -TERM $$'
check command_not_found_127 127 'cannot run' -- \
	"$emu" -- /nonexistent/qarray
check bad_board_125 125 'icebreaker|ulx3s' -- \
	"$emu" --board de10 -- true
check target_in_environment 0 '^ftdi:s:QAEMU-ULX3S,baud=3000000$' -- \
	"$emu" --board ulx3s -- sh -c 'echo "$QARRAY_EMU_TARGET"'
check target_has_the_boards_baud 0 '^ftdi:s:QAEMU-ICEBREAKER-24,baud=6000000$' -- \
	"$emu" --board icebreaker-24 -- sh -c 'echo "$QARRAY_EMU_TARGET"'

echo "$pass passed, $fail failed"
((fail == 0))
