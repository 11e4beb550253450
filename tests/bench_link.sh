#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# bench_link.sh - what the wire protocol costs: GEMMs through the chip's
# RTL and its UART (--target sim-uart, the 12 Mbaud iCEBreaker model), with
# the bytes each way on the wire against the core-stream bytes they carry,
# the simulated cycles, and the time the link alone needs at 3 and 12 Mbaud
# (10 line bits a byte; the two directions overlap, so the busier one
# counts) against the array's compute time (busy cycles at the core clock).
# A benchmark: it prints figures and fails only when a GEMM does.
#
# usage: tests/bench_link.sh [BUILD_DIR] [TARGET]
set -euo pipefail
build=${1:-build}
target=${2:-sim-uart}
work=$(mktemp -d "${TMPDIR:-/tmp}/qa_blink.XXXXXX")
trap 'rm -rf "$work"' EXIT

clock=$("$build/qarray" info --target "$target" | python3 -c 'import json,sys; print(json.load(sys.stdin)["clock_hz"])')
printf '%-26s %10s %10s %7s %10s %10s %9s %9s %9s %7s\n' shape core_out wire_out eff_out \
	core_in wire_in cycles link3M_ms link12M_ms comp_ms
# name M K N: 64x256x64, and 1 MiB of activations (X 4096 x 256) against 4 columns
for c in "64x256x64 64 256 64" "1MiB-activations 4096 256 4"; do
	read -r name m k n <<<"$c"
	"$build/mknpy" "$work/x.npy" int8 "${m}x${k}" rand:1:-128:127
	"$build/mknpy" "$work/w.npy" int8 "${k}x${n}" rand:2:-128:127
	"$build/qarray" gemm --target "$target" --x "$work/x.npy" --w "$work/w.npy" --shift 11 \
		--out "$work/y.npy" --check --stats >"$work/st.json"
	python3 - "$name" "$clock" "$work/st.json" <<'PY'
import json, sys
name, clock, path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
s = json.load(open(path))
assert s["checked"] and s["mismatches"] == 0
wo, wi = s["wire_bytes_to_device"], s["wire_bytes_from_device"]
co, ci = s["bytes_to_device"], s["bytes_from_device"]
busiest = max(wo, wi)
print("%-26s %10d %10d %6.2f%% %10d %10d %9d %9.2f %9.2f %7.2f" % (
    name, co, wo, 100.0 * co / wo, ci, wi, s["cycles"],
    busiest * 10 / 3e6 * 1e3, busiest * 10 / 12e6 * 1e3,
    s["busy_cycles"] / clock * 1e3))
PY
done
echo "(eff = core-stream bytes / wire bytes; ${clock} Hz core clock; simulated time of the 12 Mbaud model: cycles / clock)"
