#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - `make demo`: a few GEMMs of different shapes through the qarray
# CLI on the cycle-accurate simulator, each checked bit for bit against the
# golden model, with the figures the device's counters report.
#
# usage: mk/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
qarray=$build/qarray
mknpy=$build/mknpy
work=$(mktemp -d /tmp/qarray-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "qarray demo: int8 GEMMs on the cycle-accurate RTL (Verilator), checked against the C golden model"
echo
echo "device:  $($qarray info)"
echo

# name target M K N options
cases=(
	"tile-multiple sim 16 64 16 --round half_up --shift 9"
	"square sim 64 64 64 --round half_even --shift 10"
	"odd-shape+bias+relu sim 100 200 30 --round half_away --relu BIAS SHIFTS"
	"skinny sim 1 64 32 --round floor --shift 8"
	"square-8x8 sim:8x8 64 64 64 --round half_up --shift 10"
	"large sim 256 256 256 --shift 11"
)

printf '%-20s %-8s %-12s %-9s %10s %9s %9s %9s %6s\n' case target MxKxN result cycles util_busy util_e2e saturated wall_s
n=0
fails=0
for c in "${cases[@]}"; do
	read -r name target m k n_ rest <<<"$c"
	n=$((n + 1))
	printf '%s\n' "  running $name ($m x $k x $n_ on $target)..." >&2
	$mknpy "$work/x.npy" int8 "${m}x${k}" "rand:$n:-128:127"
	$mknpy "$work/w.npy" int8 "${k}x${n_}" "rand:$((n + 100)):-128:127"
	opts=()
	for o in $rest; do
		case $o in
		BIAS)
			$mknpy "$work/b.npy" int32 "$n_" "rand:$((n + 200)):-20000:20000"
			opts+=(--bias "$work/b.npy") ;;
		SHIFTS)
			$mknpy "$work/s.npy" int8 "$n_" "rand:$((n + 300)):8:12"
			opts+=(--shift "$work/s.npy") ;;
		*) opts+=("$o") ;;
		esac
	done
	set +e
	stats=$($qarray gemm --target "$target" --x "$work/x.npy" --w "$work/w.npy" \
		"${opts[@]}" --out "$work/y.npy" --stats --check)
	rc=$?
	set -e
	case $rc in
	0) result=bit-exact ;;
	3) result=MISMATCH; fails=$((fails + 1)) ;;
	*) result="error($rc)"; fails=$((fails + 1)) ;;
	esac
	if [[ -n "$stats" ]]; then
		python3 - "$name" "$target" "$m" "$k" "$n_" "$result" "$stats" <<'PY'
import json, sys
name, target, m, k, n, result, line = sys.argv[1:]
s = json.loads(line)
print(f"{name:<20} {target:<8} {m+'x'+k+'x'+n:<12} {result:<9} {s['cycles']:>10} "
      f"{100*s['compute_utilization']:>8.1f}% {100*s['utilization']:>8.1f}% "
      f"{s['saturated']:>9} {s['wall_s']:>6.2f}")
PY
	else
		printf '%-20s %-8s %-12s %-9s\n' "$name" "$target" "${m}x${k}x${n_}" "$result"
	fi
done
echo
echo "util_busy = MACs / (busy cycles * ROWS*COLS): the array while it computes, operands on chip."
echo "util_e2e  = MACs / (all cycles * ROWS*COLS): including streaming operands in one byte per cycle."
if ((fails)); then
	echo "demo: $fails of $n GEMMs did not match the golden model" >&2
	exit 1
fi
echo "demo: all $n GEMMs bit-exact against the golden model"
