#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_cli.sh - tests of the qarray command-line tool (docs/cli.md).
#
# Usage: tests/test_cli.sh BUILD_DIR
#   BUILD_DIR holds the built `qarray`, and `mknpy` (tests/mknpy.c) either
#   beside it or in BUILD_DIR/tests.
#
# Runs real GEMMs on the simulator and compares the outputs with an
# independent model written here in Python (no numpy needed), checks the
# --stats and info JSON, and checks that every class of bad input ends with
# exit status 1, a "qarray: " message and no output file.
# Each check prints "PASS name" or "FAIL name: detail"; the last line is
# "N passed, N failed"; the exit status is non-zero if any check failed.

set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd) || exit 2
QA=$BUILD/qarray
MKNPY=$BUILD/mknpy
[ -x "$MKNPY" ] || MKNPY=$BUILD/tests/mknpy
for tool in "$QA" "$MKNPY"; do
	if [ ! -x "$tool" ]; then
		echo "FAIL setup: $tool is missing"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
PY=${PYTHON:-python3}

T=$(mktemp -d "${TMPDIR:-/tmp}/qarray-cli.XXXXXX") || exit 2
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
mkdir "$T/in" "$T/o"
OUT=$T/o/y.npy

passed=0
failed=0
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# run ARGS...: run qarray; sets rc, stdout in $T/stdout, stderr in $T/stderr.
run() {
	"$QA" "$@" >"$T/stdout" 2>"$T/stderr"
	rc=$?
}
first_err() { head -n 1 "$T/stderr"; }

# mk NAME DTYPE SHAPE VALUES: write $T/in/NAME.npy with mknpy.
mk() {
	"$MKNPY" "$T/in/$1.npy" "$2" "$3" "$4" || {
		echo "FAIL setup: mknpy $*"
		failed=$((failed + 1))
	}
}

# ---- an independent .npy reader and GEMM model (Python, no numpy) ----------
cat >"$T/model.py" <<'EOF'
import ast, json, struct, sys

CODES = {'i1': 'b', 'u1': 'B', 'i4': 'i', 'i8': 'q', 'f4': 'f'}

def read_npy(path):
    with open(path, 'rb') as f:
        raw = f.read()
    if raw[:6] != b'\x93NUMPY':
        raise ValueError('bad magic')
    major = raw[6]
    if major == 1:
        hlen, start = struct.unpack('<H', raw[8:10])[0], 10
    else:
        hlen, start = struct.unpack('<I', raw[8:12])[0], 12
    header = ast.literal_eval(raw[start:start + hlen].decode('latin1'))
    descr = header['descr']
    order = '>' if descr[0] == '>' else '<'
    code = CODES[descr[1:]]
    count = 1
    for d in header['shape']:
        count *= d
    data = raw[start + hlen:]
    size = struct.calcsize(code)
    if len(data) != count * size:
        raise ValueError('data is %d bytes, expected %d' % (len(data), count * size))
    values = list(struct.unpack(order + code * count, data))
    return header, (major, raw[7]), (start + hlen) % 64, values

def round_shift(t, s, mode):
    if s == 0:
        return t
    half = 1 << (s - 1)
    if mode == 'floor':
        return t >> s
    if mode == 'half_up':
        return (t + half) >> s
    if mode == 'half_away':
        mag = (abs(t) + half) >> s
        return mag if t >= 0 else -mag
    if mode == 'half_even':
        q = t >> s
        r = t - (q << s)
        if r > half or (r == half and q & 1):
            q += 1
        return q
    raise ValueError(mode)

def cmd_header(path):
    header, version, align, values = read_npy(path)
    print('%s %s %s v%d.%d align%d' % (header['descr'], header['fortran_order'],
          'x'.join(str(d) for d in header['shape']), version[0], version[1], align))

def cmd_gemm(x_path, w_path, b_path, shift, mode, lo, hi, y_path, relu):
    hx, _, _, x = read_npy(x_path)
    hw, _, _, w = read_npy(w_path)
    m, k = hx['shape']
    n = hw['shape'][1]
    bias = read_npy(b_path)[3] if b_path != '-' else [0] * n
    try:
        shifts = [int(shift)] * n
    except ValueError:
        shifts = read_npy(shift)[3]
    lo, hi = int(lo), int(hi)
    if relu == 'relu':
        lo = max(lo, 0)
    hy, _, _, y = read_npy(y_path)
    if hy['descr'] != '|i1' or tuple(hy['shape']) != (m, n):
        print('Y is %s %s, expected |i1 (%d, %d)' % (hy['descr'], hy['shape'], m, n))
        return 1
    bad, sat = [], 0
    for i in range(m):
        for j in range(n):
            t = sum(x[i * k + kk] * w[kk * n + j] for kk in range(k)) + bias[j]
            r = round_shift(t, shifts[j], mode)
            if r < lo or r > hi:
                sat += 1
            r = min(max(r, lo), hi)
            if y[i * n + j] != r:
                bad.append('Y[%d,%d]=%d expected %d' % (i, j, y[i * n + j], r))
    if bad:
        print('%d mismatches: %s' % (len(bad), '; '.join(bad[:4])))
        return 1
    print('sat=%d' % sat)
    return 0

STATS_KEYS = {'cycles', 'macs', 'peak_macs_per_cycle', 'utilization', 'busy_cycles',
              'compute_utilization', 'stall_cycles', 'bytes_to_device',
              'bytes_from_device', 'saturated', 'runs', 'm', 'k', 'n', 'target',
              'wall_s'}

def cmd_stats(path, m, k, n, sat, target):
    text = open(path).read()
    lines = text.split('\n')
    if len(lines) != 2 or lines[1] != '':
        print('stdout is not exactly one line: %r' % text[:200])
        return 1
    s = json.loads(lines[0])
    missing = STATS_KEYS - set(s)
    if missing:
        print('missing keys %s' % sorted(missing))
        return 1
    m, k, n = int(m), int(k), int(n)
    checks = [
        ((s['m'], s['k'], s['n']) == (m, k, n), 'm,k,n = %s' % ((s['m'], s['k'], s['n']),)),
        (s['target'] == target, 'target %r' % s['target']),
        (s['macs'] == m * k * n, 'macs %s != %d' % (s['macs'], m * k * n)),
        (s['saturated'] == int(sat), 'saturated %s != %s' % (s['saturated'], sat)),
        (s['runs'] >= 1, 'runs %s' % s['runs']),
        (0 < s['busy_cycles'] <= s['cycles'], 'busy %s cycles %s' % (s['busy_cycles'], s['cycles'])),
        (0 <= s['stall_cycles'] <= s['busy_cycles'], 'stall %s' % s['stall_cycles']),
        (s['bytes_to_device'] >= m * k + k * n, 'bytes_to_device %s' % s['bytes_to_device']),
        (s['bytes_from_device'] >= m * n, 'bytes_from_device %s' % s['bytes_from_device']),
        (abs(s['utilization'] - s['macs'] / (s['cycles'] * s['peak_macs_per_cycle'])) < 1e-5,
         'utilization %s' % s['utilization']),
        (abs(s['compute_utilization'] - s['macs'] / (s['busy_cycles'] * s['peak_macs_per_cycle'])) < 1e-5,
         'compute_utilization %s' % s['compute_utilization']),
        (0 < s['utilization'] <= s['compute_utilization'] <= 1.0, 'utilization out of order'),
        (s['wall_s'] >= 0, 'wall_s %s' % s['wall_s']),
    ]
    for ok, what in checks:
        if not ok:
            print(what)
            return 1
    print('peak=%d' % s['peak_macs_per_cycle'])
    return 0

INFO_KEYS = ['rows', 'cols', 'data_w', 'acc_w', 'k_max', 'xb_depth', 'wb_depth',
             'pg_max', 'nl_max', 'clock_hz', 'version', 'qarray_version', 'target']

def cmd_info(path, target, version):
    text = open(path).read()
    lines = text.split('\n')
    if len(lines) != 2 or lines[1] != '':
        print('stdout is not exactly one line')
        return 1
    s = json.loads(lines[0])
    missing = [key for key in INFO_KEYS if key not in s]
    if missing:
        print('missing keys %s' % missing)
        return 1
    if s['target'] != target or s['qarray_version'] != version:
        print('target %r version %r' % (s['target'], s['qarray_version']))
        return 1
    if not (s['rows'] >= 1 and s['cols'] >= 1 and s['data_w'] == 8 and
            s['acc_w'] >= 16 and s['k_max'] == min(s['xb_depth'], s['wb_depth']) and
            s['pg_max'] >= 1 and s['clock_hz'] > 0 and s['version'] >= 1):
        print('implausible values %s' % lines[0])
        return 1
    print('%d %d %d' % (s['rows'], s['cols'], s['k_max']))
    return 0

if __name__ == '__main__':
    try:
        sys.exit({'header': cmd_header, 'gemm': cmd_gemm, 'stats': cmd_stats,
                  'info': cmd_info}[sys.argv[1]](*sys.argv[2:]))
    except Exception as e:
        print('error: %s' % e)
        sys.exit(1)
EOF
model() { "$PY" "$T/model.py" "$@"; }

# ---- help, version, commands ---------------------------------------------------

run --help
if [ $rc -eq 0 ] && grep -q '^Usage: qarray' "$T/stdout"; then
	pass help_global
else
	fail help_global "rc=$rc"
fi
for cmd in gemm info models; do
	run "$cmd" --help
	if [ $rc -eq 0 ] && grep -q "^Usage: qarray $cmd" "$T/stdout"; then
		pass "help_$cmd"
	else
		fail "help_$cmd" "rc=$rc"
	fi
done
run help gemm
if [ $rc -eq 0 ] && grep -q -- '--clamp LO:HI' "$T/stdout"; then
	pass help_command
else
	fail help_command "rc=$rc"
fi

run --version
version=$(sed -n 's/^qarray \([0-9][0-9.]*\)$/\1/p' "$T/stdout")
if [ $rc -eq 0 ] && [ -n "$version" ]; then
	pass version
else
	fail version "rc=$rc stdout=$(head -c 100 "$T/stdout")"
fi

run
if [ $rc -eq 1 ] && first_err | grep -q '^qarray: '; then
	pass no_command
else
	fail no_command "rc=$rc"
fi
run frobnicate
if [ $rc -eq 1 ] && first_err | grep -q '^qarray: .*frobnicate'; then
	pass unknown_command
else
	fail unknown_command "rc=$rc"
fi
run --bogus
if [ $rc -eq 1 ] && first_err | grep -q '^qarray: .*--bogus'; then
	pass unknown_global_option
else
	fail unknown_global_option "rc=$rc"
fi

run models
default_models=$(cat "$T/stdout")
if [ $rc -eq 0 ] && [ -n "$default_models" ] &&
	! grep -qv '^[0-9]\+x[0-9]\+$' "$T/stdout"; then
	pass models
else
	fail models "rc=$rc stdout=$default_models"
fi

# ---- info ------------------------------------------------------------------

run info
info=$(model info "$T/stdout" sim "$version")
info_ok=$?
if [ $rc -eq 0 ] && [ $info_ok -eq 0 ]; then
	pass info_json
else
	fail info_json "rc=$rc $info $(first_err)"
fi
read -r ROWS COLS KMAX <<<"${info:-0 0 0}"
case $KMAX in '' | *[!0-9]*) KMAX=0 ;; esac

for mdl in $default_models; do
	run info --target "sim:$mdl"
	got=$(model info "$T/stdout" "sim:$mdl" "$version")
	if [ $rc -eq 0 ] && [ "${got% *}" = "${mdl%x*} ${mdl#*x}" ]; then
		pass "info_model_$mdl"
	else
		fail "info_model_$mdl" "rc=$rc got '$got' $(first_err)"
	fi
done

run info --target sim:999x999
if [ $rc -eq 1 ] && first_err | grep -q '^qarray: .*999x999'; then
	pass info_unbuilt_model
else
	fail info_unbuilt_model "rc=$rc $(first_err)"
fi
run info --target nosuchtarget
if [ $rc -eq 2 ] && first_err | grep -q '^qarray: .*nosuchtarget'; then
	pass info_unknown_target_device_error
else
	fail info_unknown_target_device_error "rc=$rc $(first_err)"
fi
run info extra
if [ $rc -eq 1 ]; then pass info_extra_argument; else fail info_extra_argument "rc=$rc"; fi

# ---- successful GEMMs, checked against the Python model ---------------------------

# gemm_ok NAME M K N SEED [qarray options...]: random X, W; run with --check
# --stats; compare Y with the model and the JSON with expectations. Options
# understood for the model: --bias F, --shift S|F, --round R, --clamp L:H,
# --relu, --target T.
gemm_ok() {
	local name=$1 m=$2 k=$3 n=$4 seed=$5
	shift 5
	local bias=- shift_arg=0 mode=half_up lo=-128 hi=127 relu=- target=sim
	local args=("$@") i
	for ((i = 0; i < ${#args[@]}; i++)); do
		case ${args[i]} in
		--bias) bias=${args[i + 1]} ;;
		--shift) shift_arg=${args[i + 1]} ;;
		--round) mode=${args[i + 1]} ;;
		--clamp) lo=${args[i + 1]%:*} hi=${args[i + 1]#*:} ;;
		--relu) relu=relu ;;
		--target) target=${args[i + 1]} ;;
		esac
	done
	"$MKNPY" "$T/in/$name.x.npy" int8 "${m}x$k" "rand:$seed:-128:127" &&
		"$MKNPY" "$T/in/$name.w.npy" int8 "${k}x$n" "rand:$((seed + 1)):-128:127" ||
		{ fail "$name" "mknpy failed"; return; }
	rm -f "$OUT"
	run gemm --x "$T/in/$name.x.npy" --w "$T/in/$name.w.npy" --out "$OUT" \
		--check --stats "$@"
	if [ $rc -ne 0 ]; then
		fail "$name" "exit $rc: $(first_err)"
		return
	fi
	local hdr
	hdr=$(model header "$OUT")
	if [ "$hdr" != "|i1 False ${m}x$n v1.0 align0" ]; then
		fail "$name" "output header '$hdr'"
		return
	fi
	local res
	res=$(model gemm "$T/in/$name.x.npy" "$T/in/$name.w.npy" "$bias" \
		"$shift_arg" "$mode" "$lo" "$hi" "$OUT" "$relu")
	if [ $? -ne 0 ]; then
		fail "$name" "values differ from the Python model: $res"
		return
	fi
	local st
	st=$(model stats "$T/stdout" "$m" "$k" "$n" "${res#sat=}" "$target")
	if [ $? -ne 0 ]; then
		fail "$name" "stats: $st"
		return
	fi
	pass "$name"
}

mk b11 int32 11 rand:7:-3000:3000
mk s11 int32 11 rand:8:0:12
mk b3 int32 3 "100000,-100000,5"
mk s3_u8 uint8 3 "31,0,7"
mk s29_i64 int64 29 rand:9:0:31
mk b29 int32 29 rand:10:-100000:100000
mk s5_i8 int8 5 "1,2,3,4,5"

gemm_ok gemm_1x1x1 1 1 1 11
gemm_ok gemm_5x7x3_defaults 5 7 3 21
gemm_ok gemm_13x37x11_relu_bias_shiftfile_half_even 13 37 11 31 \
	--relu --bias "$T/in/b11.npy" --shift "$T/in/s11.npy" --round half_even
gemm_ok gemm_6x9x10_floor_clamp_scalar_shift 6 9 10 41 \
	--shift 5 --round floor --clamp -20:20
gemm_ok gemm_9x17x3_half_away_u8_shift_bias 9 17 3 51 \
	--round half_away --shift "$T/in/s3_u8.npy" --bias "$T/in/b3.npy"
gemm_ok gemm_2x3x5_i8_shift_relu_clamp 2 3 5 61 \
	--shift "$T/in/s5_i8.npy" --relu --clamp -100:50
gemm_ok gemm_33x70x29_i64_shift_bias 33 70 29 71 \
	--shift "$T/in/s29_i64.npy" --bias "$T/in/b29.npy" --round half_up
for mdl in $default_models; do
	gemm_ok "gemm_7x11x13_model_$mdl" 7 11 13 81 --target "sim:$mdl" --shift 6
done
if [ "$KMAX" -gt 0 ]; then
	gemm_ok gemm_k_equals_k_max 3 "$KMAX" 5 91 --shift 10
else
	fail gemm_k_equals_k_max "k_max unknown"
fi

# hand-computed: X = [[1,2],[3,4]], W = [[5,6],[7,8]] -> X.W = [[19,22],[43,50]];
# bias [1,-2] -> [[20,20],[44,48]]; shift 2 half_up -> [[5,5],[11,12]]
mk hx int8 2x2 "1,2,3,4"
mk hw int8 2x2 "5,6,7,8"
mk hb int32 2 "1,-2"
rm -f "$OUT"
run gemm --x "$T/in/hx.npy" --w "$T/in/hw.npy" --bias "$T/in/hb.npy" \
	--shift 2 --out "$OUT"
got=$("$MKNPY" --print "$OUT" 2>&1 | tr '\n' ' ')
if [ $rc -eq 0 ] && [ "$got" = "int8 2x2 5,5,11,12 " ]; then
	pass gemm_hand_computed
else
	fail gemm_hand_computed "rc=$rc got '$got'"
fi

# big-endian bias (crafted by hand): same result as the little-endian one
# mkraw FILE HEADER_DICT: .npy v1.0 with that header, data from stdin.
mkraw() {
	local h=$2 pad len
	pad=$(((64 - (10 + ${#h} + 1) % 64) % 64))
	h="$h$(printf '%*s' "$pad" '')"
	len=$((${#h} + 1))
	{
		printf '\223NUMPY\001\000'
		printf "\\$(printf %03o $((len & 255)))\\$(printf %03o $((len >> 8)))"
		printf '%s\n' "$h"
		cat
	} >"$1"
}
printf '\000\000\000\001\377\377\377\376' |
	mkraw "$T/in/hb_be.npy" "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }"
rm -f "$OUT"
run gemm --x "$T/in/hx.npy" --w "$T/in/hw.npy" --bias "$T/in/hb_be.npy" \
	--shift 2 --out "$OUT"
got=$("$MKNPY" --print "$OUT" 2>&1 | tr '\n' ' ')
if [ $rc -eq 0 ] && [ "$got" = "int8 2x2 5,5,11,12 " ]; then
	pass gemm_big_endian_bias
else
	fail gemm_big_endian_bias "rc=$rc got '$got' $(first_err)"
fi

# without --stats nothing goes to stdout; -v talks on stderr only
rm -f "$OUT"
run -v gemm --x "$T/in/hx.npy" --w "$T/in/hw.npy" --out "$OUT"
if [ $rc -eq 0 ] && [ ! -s "$T/stdout" ] && [ -s "$T/stderr" ] && [ -f "$OUT" ]; then
	pass gemm_verbose_quiet_stdout
else
	fail gemm_verbose_quiet_stdout "rc=$rc stdout $(wc -c <"$T/stdout") bytes"
fi

# an existing output file is replaced
echo old >"$OUT"
run gemm --x "$T/in/hx.npy" --w "$T/in/hw.npy" --out "$OUT"
if [ $rc -eq 0 ] && [ "$(model header "$OUT")" = "|i1 False 2x2 v1.0 align0" ]; then
	pass gemm_replaces_existing_output
else
	fail gemm_replaces_existing_output "rc=$rc"
fi

# --trace writes a waveform
rm -f "$OUT"
run gemm --x "$T/in/hx.npy" --w "$T/in/hw.npy" --out "$OUT" --trace "$T/o/wave.fst"
if [ $rc -eq 0 ] && [ -s "$T/o/wave.fst" ]; then
	pass gemm_trace_written
else
	fail gemm_trace_written "rc=$rc $(first_err)"
fi
rm -f "$T/o/wave.fst"

# ---- bad input: exit 1, a "qarray: " message, no output file ----------------------

mk x int8 5x7 rand:1:-128:127
mk w int8 7x3 rand:2:-128:127
mk b int32 3 "1,2,3"
mk s int32 3 "1,2,3"
X=$T/in/x.npy
W=$T/in/w.npy

# bad NAME PATTERN ARGS...: qarray ARGS must exit 1 with a first stderr line
# "qarray: ...PATTERN..." (grep -E, case-insensitive), leave $T/o empty and
# keep a sentinel file in place.
bad() {
	local name=$1 pattern=$2
	shift 2
	rm -rf "$T/o"
	mkdir "$T/o"
	run "$@"
	local left
	left=$(ls -A "$T/o")
	if [ $rc -ne 1 ]; then
		fail "$name" "exit $rc, expected 1: $(first_err)"
	elif ! first_err | grep -q '^qarray: '; then
		fail "$name" "stderr does not start with 'qarray: ': $(first_err)"
	elif ! first_err | grep -qiE -- "$pattern"; then
		fail "$name" "message lacks /$pattern/: $(first_err)"
	elif [ -n "$left" ]; then
		fail "$name" "left files behind: $left"
	elif [ -s "$T/stdout" ]; then
		fail "$name" "wrote to stdout"
	else
		pass "$name"
	fi
}
G=(gemm --x "$X" --w "$W" --out "$OUT")

bad bad_unknown_option 'bogus' "${G[@]}" --bogus
bad bad_unknown_short_option "'-q'" "${G[@]}" -q
bad bad_option_missing_argument 'out.*argument' gemm --x "$X" --w "$W" --out
bad bad_flag_with_argument 'relu' "${G[@]}" --relu=1
bad bad_extra_argument 'unexpected' "${G[@]}" extra
bad bad_missing_x '--x' gemm --w "$W" --out "$OUT"
bad bad_missing_w '--w' gemm --x "$X" --out "$OUT"
bad bad_missing_out '--out' gemm --x "$X" --w "$W"
bad bad_missing_file 'nope' gemm --x "$T/in/nope.npy" --w "$W" --out "$OUT"

mk x_i32 int32 5x7 rand:1:-128:127
mk w_f32 float32 7x3 rand:2:-128:127
mk b_i8 int8 3 "1,2,3"
mk b_i64 int64 3 "1,2,3"
mk s_f32 float32 3 "1,2,3"
bad bad_dtype_x 'int32' gemm --x "$T/in/x_i32.npy" --w "$W" --out "$OUT"
bad bad_dtype_w 'float32' gemm --x "$X" --w "$T/in/w_f32.npy" --out "$OUT"
bad bad_dtype_bias_int8 'int8' "${G[@]}" --bias "$T/in/b_i8.npy"
bad bad_dtype_bias_int64 'int64' "${G[@]}" --bias "$T/in/b_i64.npy"
bad bad_dtype_shift_float 'float32' "${G[@]}" --shift "$T/in/s_f32.npy"

mk x_1d int8 35 rand:1:-128:127
mk w_3d int8 7x3x1 rand:2:-128:127
mk x_0d int8 "" 5
mk b_2d int32 3x1 "1,2,3"
mk s_2d int32 1x3 "1,2,3"
bad bad_rank_x_1d 'matrix' gemm --x "$T/in/x_1d.npy" --w "$W" --out "$OUT"
bad bad_rank_x_0d 'matrix' gemm --x "$T/in/x_0d.npy" --w "$W" --out "$OUT"
bad bad_rank_w_3d 'matrix' gemm --x "$X" --w "$T/in/w_3d.npy" --out "$OUT"
bad bad_rank_bias_2d 'vector' "${G[@]}" --bias "$T/in/b_2d.npy"
bad bad_rank_shift_2d 'vector' "${G[@]}" --shift "$T/in/s_2d.npy"

mk w_k6 int8 6x3 rand:2:-128:127
mk b4 int32 4 "1,2,3,4"
mk s2 int32 2 "1,2"
bad bad_shape_k 'mismatch' gemm --x "$X" --w "$T/in/w_k6.npy" --out "$OUT"
bad bad_shape_bias 'mismatch' "${G[@]}" --bias "$T/in/b4.npy"
bad bad_shape_shift 'mismatch' "${G[@]}" --shift "$T/in/s2.npy"

mk x_m0 int8 0x7 ""
mk x_k0 int8 5x0 ""
mk w_k0 int8 0x3 ""
mk w_n0 int8 7x0 ""
bad bad_empty_m 'empty' gemm --x "$T/in/x_m0.npy" --w "$W" --out "$OUT"
bad bad_empty_k 'empty' gemm --x "$T/in/x_k0.npy" --w "$T/in/w_k0.npy" --out "$OUT"
bad bad_empty_n 'empty' gemm --x "$X" --w "$T/in/w_n0.npy" --out "$OUT"

bad bad_shift_scalar_32 'shift' "${G[@]}" --shift 32
bad bad_shift_scalar_negative 'shift' "${G[@]}" --shift -1
bad bad_shift_scalar_huge 'shift' "${G[@]}" --shift 99999999999999999999999
mk s_32 int32 3 "0,32,1"
mk s_neg int8 3 "0,-1,1"
bad bad_shift_file_32 'outside' "${G[@]}" --shift "$T/in/s_32.npy"
bad bad_shift_file_negative 'outside' "${G[@]}" --shift "$T/in/s_neg.npy"
bad bad_shift_not_a_number_nor_file '7x' "${G[@]}" --shift 7x

bad bad_round_name 'round' "${G[@]}" --round nearest
bad bad_clamp_no_colon 'clamp' "${G[@]}" --clamp 5
bad bad_clamp_not_numbers 'clamp' "${G[@]}" --clamp a:b
bad bad_clamp_three_parts 'clamp' "${G[@]}" --clamp 1:2:3
bad bad_clamp_empty_lo 'clamp' "${G[@]}" --clamp :5
bad bad_clamp_lo_gt_hi 'greater' "${G[@]}" --clamp 10:-10
bad bad_clamp_lo_below_int8 '-128' "${G[@]}" --clamp -129:0
bad bad_clamp_hi_above_int8 '127' "${G[@]}" --clamp 0:128
bad bad_relu_empty_range 'relu' "${G[@]}" --clamp -10:-5 --relu

bad bad_target_unbuilt_model 'model' "${G[@]}" --target sim:999x999
bad bad_target_empty 'target' "${G[@]}" --target ''

# malformed .npy files
cp "$X" "$T/in/trunc_data.npy"
truncate -s -3 "$T/in/trunc_data.npy"
head -c 20 "$X" >"$T/in/trunc_header.npy"
: >"$T/in/empty.npy"
{ printf 'XNUMPY'; tail -c +7 "$X"; } >"$T/in/bad_magic.npy"
head -c 35 /dev/zero |
	mkraw "$T/in/garbage_header.npy" "{'descr': '|i1', 'fortran_order': False, 'shape': (5, 7"
head -c 35 /dev/zero |
	mkraw "$T/in/bad_descr.npy" "{'descr': '<c16', 'fortran_order': False, 'shape': (5, 7), }"
head -c 35 /dev/zero |
	mkraw "$T/in/fortran.npy" "{'descr': '|i1', 'fortran_order': True, 'shape': (5, 7), }"
head -c 35 /dev/zero |
	mkraw "$T/in/neg_shape.npy" "{'descr': '|i1', 'fortran_order': False, 'shape': (5, -7), }"
head -c 35 /dev/zero |
	mkraw "$T/in/huge_shape.npy" "{'descr': '|i1', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"
printf '\223NUMPY\001\000\377\377{' >"$T/in/header_len_past_eof.npy"
for f in trunc_data trunc_header empty bad_magic garbage_header bad_descr \
	fortran neg_shape huge_shape header_len_past_eof; do
	bad "bad_npy_$f" "$f" gemm --x "$T/in/$f.npy" --w "$W" --out "$OUT"
done
head -c 20 "$T/in/b.npy" >"$T/in/trunc_bias.npy"
bad bad_npy_truncated_bias 'trunc_bias' "${G[@]}" --bias "$T/in/trunc_bias.npy"
head -c 20 "$T/in/s.npy" >"$T/in/trunc_shift.npy"
bad bad_npy_truncated_shift 'trunc_shift' "${G[@]}" --shift "$T/in/trunc_shift.npy"

# output paths
mkdir "$T/adir"
bad bad_out_is_directory 'directory' gemm --x "$X" --w "$W" --out "$T/adir"
if [ -d "$T/adir" ] && [ -z "$(ls -A "$T/adir")" ]; then
	pass bad_out_is_directory_untouched
else
	fail bad_out_is_directory_untouched "$(ls -A "$T/adir")"
fi
bad bad_out_missing_directory 'exist' gemm --x "$X" --w "$W" --out "$T/o/nodir/y.npy"
bad bad_out_trailing_slash 'directory' gemm --x "$X" --w "$W" --out "$T/o/y/"
# a special file (a FIFO here; /dev/null would be the classic victim, but a
# regression must not be able to damage the machine) is never replaced
mkdir -p "$T/special" && mkfifo "$T/special/fifo"
bad bad_out_not_regular 'regular' gemm --x "$X" --w "$W" --out "$T/special/fifo"
if [ -p "$T/special/fifo" ]; then pass special_file_still_special; else fail special_file_still_special "replaced"; fi
bad bad_trace_missing_directory 'trace' "${G[@]}" --trace "$T/o/nodir/t.fst"
if [ "$(id -u)" -ne 0 ]; then
	mkdir "$T/ro"
	chmod 555 "$T/ro"
	bad bad_out_unwritable_directory 'writable' gemm --x "$X" --w "$W" --out "$T/ro/y.npy"
	chmod 755 "$T/ro"
fi

# K larger than the device's k_max: found after opening, still exit 1
if [ "$KMAX" -gt 0 ]; then
	"$MKNPY" "$T/in/xbig.npy" int8 "2x$((KMAX + 1))" rand:3:-128:127
	"$MKNPY" "$T/in/wbig.npy" int8 "$((KMAX + 1))x3" rand:4:-128:127
	bad bad_k_above_k_max 'k_max' gemm --x "$T/in/xbig.npy" --w "$T/in/wbig.npy" --out "$OUT"
else
	fail bad_k_above_k_max "k_max unknown"
fi

# a failed run leaves an existing output file as it was
rm -rf "$T/o"
mkdir "$T/o"
echo sentinel >"$OUT"
run gemm --x "$X" --w "$T/in/w_k6.npy" --out "$OUT"
if [ $rc -eq 1 ] && [ "$(cat "$OUT")" = sentinel ] && [ "$(ls -A "$T/o")" = y.npy ]; then
	pass bad_input_keeps_existing_output
else
	fail bad_input_keeps_existing_output "rc=$rc"
fi

# ---- device errors: exit 2 -------------------------------------------------------

rm -rf "$T/o"
mkdir "$T/o"
run "${G[@]}" --target nosuchtarget
if [ $rc -eq 2 ] && first_err | grep -q '^qarray: .*nosuchtarget' && [ -z "$(ls -A "$T/o")" ]; then
	pass device_unknown_target
else
	fail device_unknown_target "rc=$rc $(first_err)"
fi

# ---- a faulty device: exit 3 on mismatch, exit 2 on a failed run ------------------
#
# No real device gives wrong answers on purpose, so this builds a second
# qarray from host/cli/qarray.c whose qa_dev_gemm is wrapped (ld --wrap):
# QA_FAULT=flip corrupts two outputs after a correct run, QA_FAULT=timeout
# fails the run. Link flags follow mk/host.mk (QA_LDLIBS overrides them);
# a sanitizer build (SAN=1) is retried with the sanitizer flags.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cat >"$T/fault.c" <<'EOF_C'
#include <stdlib.h>
#include <string.h>
#include "qarray.h"
int __real_qa_dev_gemm(qa_dev *dev, const qa_gemm_desc *d, int8_t *y,
		       qa_stats *st);
int __wrap_qa_dev_gemm(qa_dev *dev, const qa_gemm_desc *d, int8_t *y,
		       qa_stats *st);
int __wrap_qa_dev_gemm(qa_dev *dev, const qa_gemm_desc *d, int8_t *y,
		       qa_stats *st)
{
	const char *fault = getenv("QA_FAULT");
	int rc;

	if (fault && strcmp(fault, "timeout") == 0)
		return QA_ERR_TIMEOUT;
	rc = __real_qa_dev_gemm(dev, d, y, st);
	if (rc == QA_OK && fault && strcmp(fault, "flip") == 0) {
		y[1] = (int8_t)(y[1] ^ 0x10);
		y[d->m * d->n - 1] = (int8_t)(y[d->m * d->n - 1] ^ 0x01);
	}
	return rc;
}
EOF_C
FAULTY=$T/qarray-faulty
build_faulty() {
	${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror "$@" \
		-I"$ROOT/host/include" -I"$ROOT/host/src" -I"$ROOT/host/ftdi" -I"$ROOT/sim" \
		-o "$FAULTY" "$ROOT"/host/cli/*.c \
		"$T/fault.c" "$BUILD/libqarray.a" -Wl,--wrap=qa_dev_gemm \
		${QA_LDLIBS:--lstdc++ -lz -lpthread -lm $(pkg-config --libs libftdi1 libusb-1.0)} 2>"$T/cc.log"
}
if build_faulty || build_faulty -fsanitize=address,undefined; then
	pass faulty_build
	rm -rf "$T/o"
	mkdir "$T/o"
	QA_FAULT=flip "$FAULTY" gemm --x "$T/in/hx.npy" --w "$T/in/hw.npy" \
		--bias "$T/in/hb.npy" --shift 2 --out "$OUT" --check --stats \
		>"$T/stdout" 2>"$T/stderr"
	rc=$?
	got=$("$MKNPY" --print "$OUT" 2>&1 | tr '\n' ' ')
	# correct Y is [[5,5],[11,12]]; Y[0,1] ^= 0x10 -> 21, Y[1,1] ^= 1 -> 13
	if [ $rc -ne 3 ]; then
		fail check_mismatch_exit_3 "exit $rc: $(first_err)"
	elif ! grep -q '^qarray: check: 2 of 4 outputs differ' "$T/stderr" ||
		! grep -q 'Y\[0,1\]: device 21, golden 5$' "$T/stderr" ||
		! grep -q 'Y\[1,1\]: device 13, golden 12$' "$T/stderr"; then
		fail check_mismatch_exit_3 "stderr: $(tr '\n' '|' <"$T/stderr")"
	elif [ "$got" != "int8 2x2 5,21,11,13 " ]; then
		fail check_mismatch_exit_3 "device result not written: '$got'"
	elif ! grep -q '"checked":true,"mismatches":2}$' "$T/stdout"; then
		fail check_mismatch_exit_3 "stats: $(cat "$T/stdout")"
	else
		pass check_mismatch_exit_3
	fi

	# without --check the wrong answer goes unnoticed: exit 0
	QA_FAULT=flip "$FAULTY" gemm --x "$T/in/hx.npy" --w "$T/in/hw.npy" \
		--out "$OUT" >"$T/stdout" 2>"$T/stderr"
	rc=$?
	if [ $rc -eq 0 ]; then pass no_check_exit_0; else fail no_check_exit_0 "exit $rc"; fi

	rm -rf "$T/o"
	mkdir "$T/o"
	QA_FAULT=timeout "$FAULTY" gemm --x "$T/in/hx.npy" --w "$T/in/hw.npy" \
		--out "$OUT" --check --stats >"$T/stdout" 2>"$T/stderr"
	rc=$?
	if [ $rc -eq 2 ] && first_err | grep -q '^qarray: .*time' &&
		[ -z "$(ls -A "$T/o")" ] && [ ! -s "$T/stdout" ]; then
		pass device_gemm_failure_exit_2
	else
		fail device_gemm_failure_exit_2 "exit $rc: $(first_err)"
	fi
else
	fail faulty_build "$(head -c 600 "$T/cc.log")"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
