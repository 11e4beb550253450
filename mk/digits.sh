#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# digits.sh - convert the UCI optical handwritten digits, as scikit-learn
# ships them (sklearn/datasets/data/digits.csv.gz), into the .npy files of
# data/digits/ (see data/README.md).
#
# Usage: mk/digits.sh [--csv DIGITS.csv.gz] [--out DIR]
#
#   --csv FILE  the scikit-learn CSV (gzip). Without it the script fetches
#               Debian's python3-sklearn package with `apt-get download`
#               into a temporary directory and unpacks it with `dpkg -x`
#               (nothing is installed; run `apt-get update` first if apt
#               has no package lists).
#   --out DIR   where to write the four files (default: data/digits beside
#               this script's parent folder).
#
# Needs bash, gzip and python3 (standard library only; no numpy).
#
# The CSV has 1797 rows of 65 integers: 64 pixels (row-major 8x8, each
# 0..16) and the class 0..9. The script checks the SHA-256 of the
# decompressed CSV, so the output does not depend on which package version
# or gzip settings carried it, then splits the rows with a fixed shuffle:
#
#   state = 20240501 (uint64); next() is SplitMix64:
#       state += 0x9E3779B97F4A7C15
#       z = state; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
#       z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31)
#   (all arithmetic modulo 2^64)
#   order = [0, 1, ..., 1796]; for i = 1796 down to 1: draw r = next()
#   until r < 2^64 - (2^64 mod (i+1)), then swap order[i] and
#   order[r mod (i+1)]   (an unbiased Fisher-Yates shuffle)
#   train = the CSV rows order[0..1436], test = order[1437..1796]
#
# and writes, in that order, .npy format 1.0 files:
#   train_x.npy uint8 (1437, 64)   train_y.npy uint8 (1437,)
#   test_x.npy  uint8 (360, 64)    test_y.npy  uint8 (360,)
# Running it again gives byte-identical files.
set -euo pipefail

CSV_SHA256=6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../data/digits
csv=""

while (($#)); do
	case $1 in
	--csv) csv=${2:?--csv needs a file}; shift 2 ;;
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	-h | --help) sed -n '3,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "digits.sh: unknown argument '$1' (try --help)" >&2; exit 1 ;;
	esac
done

work=$(mktemp -d "${TMPDIR:-/tmp}/qarray-digits.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [[ -z $csv ]]; then
	echo "digits.sh: fetching Debian's python3-sklearn (not installing it)"
	if ! (cd "$work" && apt-get download python3-sklearn >/dev/null 2>"$work/apt.err"); then
		cat "$work/apt.err" >&2
		echo "digits.sh: apt-get download failed; run 'apt-get update' or pass --csv" >&2
		exit 1
	fi
	dpkg -x "$work"/python3-sklearn_*.deb "$work/pkg"
	csv=$(find "$work/pkg" -path '*sklearn/datasets/data/digits.csv.gz' | head -n 1)
	[[ -n $csv ]] || { echo "digits.sh: digits.csv.gz not found in the package" >&2; exit 1; }
fi
[[ -r $csv ]] || { echo "digits.sh: cannot read '$csv'" >&2; exit 1; }

gzip -dc "$csv" >"$work/digits.csv"
sum=$(sha256sum "$work/digits.csv" | cut -d' ' -f1)
if [[ $sum != "$CSV_SHA256" ]]; then
	echo "digits.sh: the decompressed CSV has SHA-256 $sum," >&2
	echo "digits.sh: expected $CSV_SHA256 (a different data set?)" >&2
	exit 1
fi

mkdir -p "$out"
python3 - "$work/digits.csv" "$work" <<'EOF'
import struct, sys

csv_path, work = sys.argv[1], sys.argv[2]
MASK = (1 << 64) - 1
N, D, N_TRAIN = 1797, 64, 1437

rows = []
with open(csv_path) as f:
    for line_no, line in enumerate(f, 1):
        vals = [int(v) for v in line.strip().split(',')]
        if len(vals) != D + 1:
            sys.exit('digits.sh: line %d has %d values' % (line_no, len(vals)))
        if not all(0 <= v <= 16 for v in vals[:D]) or not 0 <= vals[D] <= 9:
            sys.exit('digits.sh: line %d has a value out of range' % line_no)
        rows.append(vals)
if len(rows) != N:
    sys.exit('digits.sh: %d rows, expected %d' % (len(rows), N))

state = 20240501
def next_u64():
    global state
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)

order = list(range(N))
for i in range(N - 1, 0, -1):
    bound = i + 1
    limit = (1 << 64) - ((1 << 64) % bound)
    r = next_u64()
    while r >= limit:
        r = next_u64()
    j = r % bound
    order[i], order[j] = order[j], order[i]

def write_npy(path, shape, data):
    dims = ', '.join(str(d) for d in shape) + (',' if len(shape) == 1 else '')
    header = "{'descr': '|u1', 'fortran_order': False, 'shape': (%s), }" % dims
    header += ' ' * (64 - (10 + len(header) + 1) % 64) + '\n'
    with open(path, 'wb') as f:
        f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)))
        f.write(header.encode('latin1'))
        f.write(bytes(data))

for name, idx in (('train', order[:N_TRAIN]), ('test', order[N_TRAIN:])):
    xs = [v for i in idx for v in rows[i][:D]]
    ys = [rows[i][D] for i in idx]
    write_npy('%s/%s_x.npy' % (work, name), (len(idx), D), xs)
    write_npy('%s/%s_y.npy' % (work, name), (len(idx),), ys)
EOF

for f in train_x train_y test_x test_y; do
	mv -f "$work/$f.npy" "$out/$f.npy"
done
(cd "$out" && sha256sum train_x.npy train_y.npy test_x.npy test_y.npy)
echo "digits.sh: wrote $(cd "$out" && pwd)/{train,test}_{x,y}.npy"
