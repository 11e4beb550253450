#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_usb.sh - qarray over the wire protocol, end to end, through the CLI:
#
#   sim-uart   the chip's RTL through its UART pins (both board models);
#   ftdi       `qarray emu`: the unmodified libftdi/libusb path against an
#              emulated FT2232H (iCEBreaker) or FT231X (ULX3S) wired bit by
#              bit to the chip's RTL;
#   tty        `qarray emu --pty`: the termios path against a pseudo-terminal
#              wired to the chip's RTL.
#
# Every GEMM is checked bit for bit against the golden model (--check); the
# failure cases must end with exit 2, a message that names the cause, within
# a time limit, and no output file.
#
# usage: tests/test_usb.sh [BUILD_DIR]
# Prints PASS/FAIL per check and "N passed, N failed" last.
set -u
build=${1:-build}
qa=$build/qarray
mknpy=$build/mknpy
work=$(mktemp -d "${TMPDIR:-/tmp}/qa_usb.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0
fail=0

# check NAME WANT_RC OUTPUT_REGEX -- COMMAND...   (60 s limit per command)
check() {
	local name=$1 want=$2 re=$3
	shift 4
	local out rc
	out=$(timeout 120 "$@" 2>&1)
	rc=$?
	if [[ $rc -eq $want ]] && grep -Eq -- "$re" <<<"$out"; then
		echo "PASS $name"
		pass=$((pass + 1))
	else
		echo "FAIL $name: exit $rc (want $want, output /$re/):"
		sed 's/^/    /' <<<"$out" | head -20
		fail=$((fail + 1))
	fi
}

# operands: NAME M K N SEED
mk() {
	$mknpy "$work/$1_x.npy" int8 "$2x$3" "rand:$5:-128:127" &&
		$mknpy "$work/$1_w.npy" int8 "$3x$4" "rand:$(($5 + 1)):-128:127"
}
gemm_args() { # NAME [TARGET]
	echo --x "$work/$1_x.npy" --w "$work/$1_w.npy" --shift 9 --round half_even \
		--out "$work/$1_y.npy" --check --stats
}
mk small 16 40 12 1
mk wide 64 256 64 3 # loads of 16 KB, 4 KB of results: many frames each way
mk odd 13 100 41 5
ok_re='"checked":true,"mismatches":0'

# ---- the chip through its UART pins ------------------------------------------
check simuart_icebreaker_small 0 "$ok_re" -- $qa gemm --target sim-uart:icebreaker $(gemm_args small)
check simuart_icebreaker_64x256x64 0 "$ok_re" -- $qa gemm --target sim-uart $(gemm_args wide)
check simuart_ulx3s_12x12_3mbaud 0 "$ok_re" -- $qa gemm --target sim-uart:ulx3s $(gemm_args odd)
check simuart_baud_mismatch 2 'baud' -- $qa gemm --target sim-uart:icebreaker,baud=11000000 $(gemm_args small)
check simuart_no_such_board 2 "no chip model 'de10'.*icebreaker" -- $qa gemm --target sim-uart:de10 $(gemm_args small)
check simuart_bad_option 2 "bad sim-uart option 'speed=3'" -- $qa gemm --target sim-uart:speed=3 $(gemm_args small)
check simuart_info 0 '"rows":12,"cols":12' -- $qa info --target sim-uart:ulx3s

# ---- line errors: the link recovers, or fails clearly (docs/protocol.md, 7) --
check simuart_after_100k_garbage_bytes 0 "$ok_re" -- $qa gemm --target sim-uart:icebreaker,garbage=100000 $(gemm_args small)
check simuart_faults_1e-3 0 '"checked":true,"mismatches":0' -- \
	$qa gemm --target sim-uart --link-faults flip=1e-3,drop=1e-4,dup=1e-4,garbage=1e-4,seed=7 $(gemm_args odd)
check simuart_faults_counted 0 '"link_resent":[1-9][0-9]*,"link_damaged":[0-9]+,"link_probes":[1-9]' -- \
	$qa gemm --target sim-uart --link-faults flip=3e-3,seed=3 $(gemm_args small)
check simuart_faults_too_high_fail_fast 2 'no answer to RESET|too noisy|lost to line errors' -- \
	$qa gemm --target sim-uart --link-faults flip=0.3 $(gemm_args small)
check simuart_faults_bad_spec 2 "bad link fault 'flop=1'" -- $qa gemm --target sim-uart --link-faults flop=1 $(gemm_args small)
check sim_faults_refused 2 'sim-uart target only' -- $qa gemm --target sim --link-faults flip=1e-3 $(gemm_args small)

# a 3-layer network on a faulty line: every logit still equals the golden model's;
# streamed (a GEMM per layer) on the iCEBreaker's model, which has no layer table,
# resident on the ULX3S's (fewer rows: its model is slower)
if $qa train --x data/digits/train_x.npy --y data/digits/train_y.npy --hidden 24,16 --epochs 8 \
	--out "$work/fm" >/dev/null 2>&1 &&
	$qa quantize --model "$work/fm" --calib data/digits/train_x.npy --out "$work/m.qam" >/dev/null 2>&1 &&
	$mknpy "$work/x100.npy" float32 100x64 rand:5:0:16 >/dev/null 2>&1; then
	check simuart_network_faults_1e-3 0 '"checked":true,"mismatches":0' -- \
		$qa run --target sim-uart --link-faults flip=1e-3,drop=1e-4 --model "$work/m.qam" \
		--x data/digits/test_x.npy --out "$work/logits.npy" --check --stats
	# (the 25F's 4x7 chip: under SAN=1 the 85F's 12x12 model is too slow for these
	# wall-clock limits; make test's net_ulx3s and ftdi_ulx3s run the 12x12 one)
	check simuart_resident_network_faults_1e-3 0 '"checked":true,"mismatches":0' -- \
		$qa run --target sim-uart:ulx3s-25f --link-faults flip=1e-3,drop=1e-4 --model "$work/m.qam" \
		--x "$work/x100.npy" --out "$work/logits2.npy" --check --stats
else
	echo "FAIL simuart_network_faults_1e-3: could not train/quantize the model"
	fail=$((fail + 1))
fi

# ---- emulated FTDI bridges wired to the chip's RTL ---------------------------
check ftdi_icebreaker_small 0 "$ok_re" -- $qa emu --board icebreaker -- $qa gemm --target ftdi $(gemm_args small)
check ftdi_icebreaker_64x256x64 0 "$ok_re" -- $qa emu --board icebreaker -- $qa gemm --target ftdi $(gemm_args wide)
check ftdi_icebreaker_24mhz_6mbaud 0 "$ok_re" -- \
	$qa emu --board icebreaker-24 -- $qa gemm --target ftdi:baud=6000000 $(gemm_args odd)
check ftdi_target_from_environment_6mbaud 0 "$ok_re" -- $qa emu --board icebreaker-24 -- \
	sh -c "exec $qa gemm --target \"\$QARRAY_EMU_TARGET\" $(gemm_args small)"
check ftdi_host_12mbaud_board_6mbaud 2 'at this baud rate' -- \
	$qa emu --board icebreaker-24 -- $qa gemm --target ftdi:timeout=500 $(gemm_args small)
# the FT231X checks on the 25F's chip (4x7), for the same reason
check ftdi_ulx3s_ft231x_3mbaud 0 "$ok_re" -- $qa emu --board ulx3s-25f -- $qa gemm --target ftdi $(gemm_args odd)
check ftdi_target_from_environment 0 "$ok_re" -- $qa emu --board ulx3s-25f --serial QA-TEST-7 -- \
	sh -c "exec $qa gemm --target \"\$QARRAY_EMU_TARGET\" $(gemm_args small)"
check ftdi_list_shows_the_bridge 0 'FT2232H +001:002 +serial=QAEMU-ICEBREAKER.*target=ftdi:s:QAEMU-ICEBREAKER' -- \
	$qa emu --board icebreaker -- $qa list
check ftdi_list_json 0 '^\{"kind":"usb","type":"FT231X","vid":"0403","pid":"6015"' -- \
	$qa emu --board ulx3s -- $qa list --json
rm -f "$work/small_y.npy" "$work/wide_y.npy"
check ftdi_host_3mbaud_board_12mbaud 2 'baud' -- \
	$qa emu --board icebreaker -- $qa gemm --target ftdi:baud=3000000,timeout=500 $(gemm_args small)
check ftdi_unplugged_mid_transfer 2 'disconnected' -- \
	$qa emu --board icebreaker --unplug-after-bytes 3000 -- $qa gemm --target ftdi $(gemm_args wide)
if [[ -e $work/small_y.npy || -e $work/wide_y.npy ]]; then
	echo "FAIL no_output_after_failure: an output file was written"
	fail=$((fail + 1))
else
	echo "PASS no_output_after_failure"
	pass=$((pass + 1))
fi
check ftdi_no_device 2 'no FTDI bridge' -- $qa gemm --target ftdi $(gemm_args small)
check ftdi_faulty_line_1e-3 0 "$ok_re" -- \
	$qa emu --board icebreaker --link-faults flip=1e-3,drop=1e-4,seed=5 -- $qa gemm --target ftdi:timeout=300 $(gemm_args odd)
check emu_help 0 'qarray emu' -- $qa emu --help

# ---- the tty transport against a pty wired to the chip's RTL -----------------
check tty_pty_icebreaker 0 "$ok_re" -- $qa emu --pty --board icebreaker -- \
	sh -c "exec $qa gemm --target \"\$QARRAY_EMU_TARGET\" $(gemm_args odd)"
check tty_no_such_port 2 'tty' -- $qa gemm --target tty:/dev/nonexistent-tty $(gemm_args small)

echo "$pass passed, $fail failed"
((fail == 0))
