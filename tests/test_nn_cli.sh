#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_nn_cli.sh - tests of `qarray train` and `qarray quantize` (docs/cli.md)
# on the handwritten digits of data/digits (data/README.md).
#
# Usage: tests/test_nn_cli.sh BUILD_DIR
#   BUILD_DIR holds the built `qarray`, `mknpy` (beside it or in
#   BUILD_DIR/tests) and `tests/nn_eval` (tests/nn_eval.c).
#
# Trains a float model, quantizes it with every method, measures float and
# golden int8 accuracy on the test split (nn_eval) and checks the issue's
# targets (int8 within 1.0 percentage point of float, int8 model <= 26% of
# the float bytes, the floor baseline clearly worse). An independent reader
# of the .qam format and an integer inference written here in Python (no
# numpy) must reproduce the golden logits bit for bit. Then every class of
# bad input must end with exit status 1, a "qarray: " message and no output.
# Each check prints "PASS name" or "FAIL name: detail"; "# ..." lines carry
# the measured figures; the last line is "N passed, N failed".

set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd) || exit 2
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=$HERE/../data/digits
QA=$BUILD/qarray
MKNPY=$BUILD/mknpy
[ -x "$MKNPY" ] || MKNPY=$BUILD/tests/mknpy
EVAL=$BUILD/tests/nn_eval
PY=${PYTHON:-python3}
for tool in "$QA" "$MKNPY" "$EVAL"; do
	if [ ! -x "$tool" ]; then
		echo "FAIL setup: $tool is missing"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
for f in train_x train_y test_x test_y; do
	if [ ! -r "$DATA/$f.npy" ]; then
		echo "FAIL setup: $DATA/$f.npy is missing (mk/digits.sh writes it)"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

T=$(mktemp -d "${TMPDIR:-/tmp}/qarray-nn-cli.XXXXXX") || exit 2
trap '[ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
mkdir "$T/in" "$T/o"

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

# json FILE EXPR: evaluate a Python expression on the JSON object d.
json() {
	"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- an independent .qam reader and integer inference (docs/models.md) ----
cat >"$T/qam.py" <<'EOF'
import struct, sys, zlib

def read_npy(path):
    raw = open(path, 'rb').read()
    assert raw[:6] == b'\x93NUMPY'
    if raw[6] == 1:
        hlen, start = struct.unpack('<H', raw[8:10])[0], 10
    else:
        hlen, start = struct.unpack('<I', raw[8:12])[0], 12
    import ast
    h = ast.literal_eval(raw[start:start + hlen].decode('latin1'))
    code = {'|i1': 'b', '|u1': 'B', '<f4': 'f', '<i4': 'i'}[h['descr']]
    n = 1
    for d in h['shape']:
        n *= d
    return h['shape'], list(struct.unpack('<%d%s' % (n, code), raw[start + hlen:]))

def read_qam(path):
    b = open(path, 'rb').read()
    assert b[:4] == b'QAMF', 'magic'
    assert b[4] == 1, 'version'
    flags, nl, rnd, in_rnd = b[5], b[6], b[7], b[8]
    k_in = struct.unpack('<b', b[9:10])[0]
    method, bits = b[10], b[11]
    size = struct.unpack('<I', b[12:16])[0]
    assert size == len(b), 'size'
    assert struct.unpack('<I', b[-4:])[0] == zlib.crc32(b[:-4]) & 0xffffffff, 'crc'
    layers, pos = [], 16 + 16 * nl
    for l in range(nl):
        r = b[16 + 16 * l: 32 + 16 * l]
        k, n = struct.unpack('<II', r[:8])
        k_out, lo, hi = struct.unpack('<bbb', r[8:11])
        bw, smode = r[11], r[12]
        assert r[13:16] == b'\0\0\0'
        w = list(struct.unpack('<%db' % (k * n), b[pos:pos + k * n])); pos += k * n
        bias = []
        for j in range(n):
            bias.append(int.from_bytes(b[pos:pos + bw], 'little', signed=True) if bw else 0)
            pos += bw
        if smode == 0:
            shift = [b[pos]] * n; pos += 1
        elif smode == 1:
            shift = list(b[pos:pos + n]); pos += n
        else:
            base = b[pos]
            shift = [base + ((b[pos + 1 + j // 2] >> (4 * (j % 2))) & 15) for j in range(n)]
            pos += 1 + (n + 1) // 2
        layers.append(dict(k=k, n=n, k_out=k_out, lo=lo, hi=hi, w=w, bias=bias, shift=shift))
    assert pos == len(b) - 4, 'data size'
    return dict(round=rnd, in_round=in_rnd, k_in=k_in, layers=layers)

def round_shift(t, s, mode):
    if s == 0:
        return t
    q, rem, h = t >> s, t & ((1 << s) - 1), 1 << (s - 1)
    if mode == 0:
        return q
    if mode == 1:
        return q + (rem >= h)
    if mode == 2:
        return q + (rem > h or (rem == h and t >= 0))
    return q + (rem > h or (rem == h and q & 1))

def quantize_input(v, k, mode):
    from fractions import Fraction
    x = Fraction(v) / (Fraction(2) ** k)
    if mode == 0:    # floor
        r = x.numerator // x.denominator
    else:            # half_away: nearest, ties away from zero
        assert mode == 2, mode
        r = int(abs(x) + Fraction(1, 2))
        r = r if x >= 0 else -r
    return max(-128, min(127, r))

def forward(m, rows):
    out = []
    for x in rows:
        for L in m['layers']:
            k, n = L['k'], L['n']
            cols = [L['w'][j::n] for j in range(n)]
            y = []
            for j in range(n):
                t = L['bias'][j] + sum(a * c for a, c in zip(x, cols[j]))
                r = round_shift(t, L['shift'][j], m['round'])
                y.append(max(L['lo'], min(L['hi'], r)))
            x = y
        out.extend(x)
    return out

if __name__ == '__main__':
    qam, xpath, logits = sys.argv[1:4]
    m = read_qam(qam)
    (nrows, d), xs = read_npy(xpath)
    rows = [[quantize_input(v, m['k_in'], m['in_round']) for v in xs[i * d:(i + 1) * d]]
            for i in range(nrows)]
    mine = forward(m, rows)
    _, golden = read_npy(logits)
    bad = [i for i, (a, b) in enumerate(zip(mine, golden)) if a != b]
    if len(mine) != len(golden) or bad:
        print('differ: %d of %d, first at %s' % (len(bad), len(golden), bad[:3]))
        sys.exit(1)
    print('equal %d' % len(golden))
EOF

# ---- training ----------------------------------------------------------------
FM=$T/o/f64
run train --x "$DATA/train_x.npy" --y "$DATA/train_y.npy" --hidden 64 --seed 1 --out "$FM" --json
if [ $rc -eq 0 ] && [ -s "$FM/manifest.txt" ] && [ -s "$FM/l0_w.npy" ] && [ -s "$FM/l1_b.npy" ]; then
	pass train_digits
else
	fail train_digits "rc $rc: $(first_err)"
fi
cp "$T/stdout" "$T/train.json"
if [ "$(json "$T/train.json" '(d["inputs"], d["hidden"], d["classes"], d["examples"], d["parameters"], d["epochs"], d["qat_epochs"], d["train_acc"] > 0.98)' 2>&1)" = "(64, [64], 10, 1437, 4810, 40, 0, True)" ]; then
	pass train_json
else
	fail train_json "$(cat "$T/train.json")"
fi
if [ "$(grep -c '^dense ' "$FM/manifest.txt")" = 2 ] && head -n 1 "$FM/manifest.txt" | grep -qx 'qarray-model 1' &&
	grep -q '^dense w=l0_w.npy b=l0_b.npy relu$' "$FM/manifest.txt" && grep -q '^dense w=l1_w.npy b=l1_b.npy$' "$FM/manifest.txt"; then
	pass train_manifest
else
	fail train_manifest "$(cat "$FM/manifest.txt")"
fi
if "$PY" -c '
import sys; sys.path.insert(0, sys.argv[1]); import qam
s0, w0 = qam.read_npy(sys.argv[2] + "/l0_w.npy"); s1, b1 = qam.read_npy(sys.argv[2] + "/l1_b.npy")
assert tuple(s0) == (64, 64) and tuple(s1) == (10,), (s0, s1)' "$T" "$FM" 2>"$T/py.err"; then
	pass train_npy_shapes
else
	fail train_npy_shapes "$(tail -n 1 "$T/py.err")"
fi
run train --x "$DATA/train_x.npy" --y "$DATA/train_y.npy" --hidden 64 --seed 1 --out "$T/o/again"
if [ $rc -eq 0 ] && cmp -s "$FM/l0_w.npy" "$T/o/again/l0_w.npy" && cmp -s "$FM/l1_w.npy" "$T/o/again/l1_w.npy" &&
	cmp -s "$FM/manifest.txt" "$T/o/again/manifest.txt"; then
	pass train_deterministic
else
	fail train_deterministic "rc $rc: the same seed gave different files"
fi
run train --x "$DATA/train_x.npy" --y "$DATA/train_y.npy" --hidden 64 --seed 2 --epochs 5 --out "$T/o/seed2"
if [ $rc -eq 0 ] && ! cmp -s "$FM/l0_w.npy" "$T/o/seed2/l0_w.npy"; then
	pass train_seed_changes_result
else
	fail train_seed_changes_result "rc $rc"
fi

# ---- quantization with every method --------------------------------------------
# quant NAME ARGS...: quantize $FM into $T/o/NAME.qam with a JSON report,
# then measure it on the test split into $T/NAME.eval
quant() {
	local name=$1
	shift
	run quantize --model "$FM" --calib "$DATA/train_x.npy" "$@" --out "$T/o/$name.qam" --json
	cp "$T/stdout" "$T/$name.json"
	if [ $rc -ne 0 ]; then
		fail "quantize_$name" "rc $rc: $(first_err)"
		return 1
	fi
	"$EVAL" --model "$T/o/$name.qam" --float-model "$FM" --x "$DATA/test_x.npy" --y "$DATA/test_y.npy" \
		--logits "$T/$name.logits.npy" >"$T/$name.eval" 2>&1 || {
		fail "quantize_$name" "nn_eval: $(cat "$T/$name.eval")"
		return 1
	}
	pass "quantize_$name"
}
quant max
quant percentile --method percentile --percentile 99.99
quant mse --method mse
quant per_channel --per-channel
quant mse_per_channel --method mse --per-channel --round half_even
quant floor --method floor

# the measured figures, printed last (figure lines start with "#")
figures=$T/figures
: >"$figures"
for name in max percentile mse per_channel mse_per_channel floor; do
	[ -s "$T/$name.eval" ] || continue
	echo "# int8 $name: int8_acc=$(json "$T/$name.eval" 'd["int8_acc"]')" \
		"agree=$(json "$T/$name.eval" 'd["agree"]')" \
		"bytes=$(json "$T/$name.json" 'd["bytes_int8"]')/$(json "$T/$name.json" 'd["bytes_float"]')" \
		"size_ratio=$(json "$T/$name.json" 'round(d["size_ratio"], 4)')" >>"$figures"
done
for name in max percentile mse per_channel mse_per_channel; do
	[ -s "$T/$name.eval" ] || continue
	gap=$(json "$T/$name.eval" 'round(100 * (d["float_acc"] - d["int8_acc"]), 3)')
	if [ "$(json "$T/$name.eval" 'd["float_acc"] - d["int8_acc"] <= 0.010001')" = True ]; then
		pass "int8_within_1pp_$name"
	else
		fail "int8_within_1pp_$name" "float - int8 = $gap percentage points"
	fi
done
if [ -s "$T/floor.eval" ] && [ "$(json "$T/floor.eval" 'd["float_acc"] - d["int8_acc"] > 0.10')" = True ]; then
	pass floor_baseline_fails
else
	fail floor_baseline_fails "the naive floor quantization should lose more than 10 points: $(cat "$T/floor.eval" 2>/dev/null)"
fi
for name in max per_channel; do
	if [ -s "$T/$name.json" ] && [ "$(json "$T/$name.json" 'd["bytes_int8"] <= 0.26 * d["bytes_float"] and d["bytes_int8"] == __import__("os").path.getsize(d["out"])')" = True ]; then
		pass "size_within_26pct_$name"
	else
		fail "size_within_26pct_$name" "$(json "$T/$name.json" '(d["bytes_int8"], d["bytes_float"])' 2>&1)"
	fi
done
if [ -s "$T/max.json" ] && [ "$(json "$T/max.json" '(d["method"], d["per_channel"], d["round"], d["k_in"], len(d["layers"]), d["layers"][0]["k"], d["layers"][1]["n"], d["input"]["saturated"], d["agreement"] > 0.99)')" = "('max', False, 'half_up', -2, 2, 64, 10, 0, True)" ]; then
	pass quantize_json_fields
else
	fail quantize_json_fields "$(cat "$T/max.json")"
fi
if [ -s "$T/floor.json" ] && [ "$(json "$T/floor.json" '(d["round"], d["k_in"], d["input"]["saturated"] > 0)')" = "('floor', -7, True)" ]; then
	pass floor_report_shows_saturation
else
	fail floor_report_shows_saturation "$(cat "$T/floor.json" 2>/dev/null)"
fi

# the .qam format read independently, and the golden inference reproduced
for name in max mse_per_channel floor; do
	if out=$("$PY" "$T/qam.py" "$T/o/$name.qam" "$DATA/test_x.npy" "$T/$name.logits.npy" 2>&1); then
		pass "independent_qam_reader_$name"
	else
		fail "independent_qam_reader_$name" "$out"
	fi
done

# the table on stderr
run quantize --model "$FM" --calib "$DATA/train_x.npy" --out "$T/o/table.qam"
if [ $rc -eq 0 ] && [ ! -s "$T/stdout" ] && grep -q '^layer ' "$T/stderr" && grep -q '^input ' "$T/stderr" &&
	grep -q '^top-1 agreement' "$T/stderr" && grep -q '^model bytes: float32 19240' "$T/stderr"; then
	pass quantize_table_on_stderr
else
	fail quantize_table_on_stderr "rc $rc: $(cat "$T/stderr")"
fi

# quantization-aware training
run train --x "$DATA/train_x.npy" --y "$DATA/train_y.npy" --hidden 64 --qat --qat-epochs 5 --out "$T/o/qat" --json
if [ $rc -eq 0 ] && [ "$(json "$T/stdout" 'd["qat_epochs"]')" = 5 ]; then
	run quantize --model "$T/o/qat" --calib "$DATA/train_x.npy" --out "$T/o/qat.qam" --json
	"$EVAL" --model "$T/o/qat.qam" --float-model "$T/o/qat" --x "$DATA/test_x.npy" --y "$DATA/test_y.npy" >"$T/qat.eval" 2>&1
	if [ $rc -eq 0 ] && [ "$(json "$T/stdout" 'd["layers"][0]["w_snr_db"]')" = 999 ] &&
		[ "$(json "$T/qat.eval" 'd["float_acc"] - d["int8_acc"] <= 0.010001')" = True ]; then
		pass train_qat_quantizes
	else
		fail train_qat_quantizes "rc $rc: $(cat "$T/qat.eval")"
	fi
else
	fail train_qat_quantizes "rc $rc: $(first_err)"
fi

# help
run help train
if [ $rc -eq 0 ] && grep -q '^Usage: qarray train' "$T/stdout"; then pass help_train; else fail help_train "rc $rc"; fi
run quantize --help
if [ $rc -eq 0 ] && grep -q '^Usage: qarray quantize' "$T/stdout"; then pass help_quantize; else fail help_quantize "rc $rc"; fi
run --help
if [ $rc -eq 0 ] && grep -q '^  train ' "$T/stdout" && grep -q '^  quantize ' "$T/stdout"; then
	pass help_lists_commands
else
	fail help_lists_commands "rc $rc"
fi

# ---- bad input: exit 1, "qarray: " first, nothing written -----------------------
# bad NAME EXPECT_IN_MESSAGE OUT_PATH ARGS...
bad() {
	local name=$1 expect=$2 out=$3
	shift 3
	run "$@"
	if [ $rc -ne 1 ]; then
		fail "$name" "exit $rc, expected 1 ($(first_err))"
	elif ! first_err | grep -q '^qarray: '; then
		fail "$name" "message does not start with 'qarray: ': $(first_err)"
	elif ! grep -qF -- "$expect" "$T/stderr"; then
		fail "$name" "message lacks '$expect': $(first_err)"
	elif [ -n "$out" ] && [ -e "$out" ]; then
		fail "$name" "$out was left behind"
	else
		pass "$name"
	fi
}

X=$DATA/train_x.npy
Y=$DATA/train_y.npy
O=$T/o/nothing
"$MKNPY" "$T/in/x_int8.npy" int8 4x2 1,2,3,4,5,6,7,8
"$MKNPY" "$T/in/x_1d.npy" float32 4 1,2,3,4
"$MKNPY" "$T/in/x_nan.npy" float32 3x2 1,2,nan,4,5,6
"$MKNPY" "$T/in/x_ok.npy" float32 3x2 1,2,3,4,5,6
"$MKNPY" "$T/in/y_f.npy" float32 3 0,1,1
"$MKNPY" "$T/in/y_neg.npy" int8 3 0,-1,1
"$MKNPY" "$T/in/y_short.npy" int32 2 0,1
"$MKNPY" "$T/in/y_one.npy" int64 3 0,0,0
"$MKNPY" "$T/in/y_ok.npy" int64 3 0,1,2
"$MKNPY" "$T/in/calib63.npy" float32 2x63 rand:1:0:16
"$MKNPY" "$T/in/calib_i8.npy" int8 2x64 rand:1:0:16
echo "not a directory" >"$T/in/afile"

bad train_missing_x "missing required option --x" "$O" train --y "$Y" --hidden 8 --out "$O"
bad train_missing_hidden "missing required option --hidden" "$O" train --x "$X" --y "$Y" --out "$O"
bad train_missing_out "missing required option --out" "" train --x "$X" --y "$Y" --hidden 8
bad train_hidden_zero "--hidden '0'" "$O" train --x "$X" --y "$Y" --hidden 0 --out "$O"
bad train_hidden_empty_item "--hidden '32,,16'" "$O" train --x "$X" --y "$Y" --hidden 32,,16 --out "$O"
bad train_hidden_text "--hidden 'abc'" "$O" train --x "$X" --y "$Y" --hidden abc --out "$O"
bad train_hidden_negative "--hidden '-5'" "$O" train --x "$X" --y "$Y" --hidden -5 --out "$O"
bad train_epochs_zero "--epochs '0'" "$O" train --x "$X" --y "$Y" --hidden 8 --epochs 0 --out "$O"
bad train_seed_negative "--seed '-1'" "$O" train --x "$X" --y "$Y" --hidden 8 --seed -1 --out "$O"
bad train_seed_huge "--seed" "$O" train --x "$X" --y "$Y" --hidden 8 --seed 99999999999999999999999 --out "$O"
bad train_lr_zero "--lr '0'" "$O" train --x "$X" --y "$Y" --hidden 8 --lr 0 --out "$O"
bad train_lr_text "--lr 'fast'" "$O" train --x "$X" --y "$Y" --hidden 8 --lr fast --out "$O"
bad train_qat_epochs_alone "needs --qat" "$O" train --x "$X" --y "$Y" --hidden 8 --qat-epochs 3 --out "$O"
bad train_unknown_option "unknown or malformed option '--dropout'" "$O" train --x "$X" --y "$Y" --hidden 8 --dropout 0.5 --out "$O"
bad train_extra_word "unexpected argument 'more'" "$O" train --x "$X" --y "$Y" --hidden 8 --out "$O" more
bad train_x_missing_file "--x" "$O" train --x "$T/in/none.npy" --y "$Y" --hidden 8 --out "$O"
bad train_x_int8 "expected float32 or uint8" "$O" train --x "$T/in/x_int8.npy" --y "$T/in/y_ok.npy" --hidden 8 --out "$O"
bad train_x_1d "expected a matrix" "$O" train --x "$T/in/x_1d.npy" --y "$T/in/y_ok.npy" --hidden 8 --out "$O"
bad train_x_nan "not finite" "$O" train --x "$T/in/x_nan.npy" --y "$T/in/y_ok.npy" --hidden 8 --out "$O"
bad train_y_float "expected an integer dtype" "$O" train --x "$T/in/x_ok.npy" --y "$T/in/y_f.npy" --hidden 8 --out "$O"
bad train_y_negative "label -1" "$O" train --x "$T/in/x_ok.npy" --y "$T/in/y_neg.npy" --hidden 8 --out "$O"
bad train_y_length "shape mismatch" "$O" train --x "$T/in/x_ok.npy" --y "$T/in/y_short.npy" --hidden 8 --out "$O"
bad train_y_one_class "at least two classes" "$O" train --x "$T/in/x_ok.npy" --y "$T/in/y_one.npy" --hidden 8 --out "$O"
bad train_out_is_file "exists and is not a directory" "" train --x "$T/in/x_ok.npy" --y "$T/in/y_ok.npy" --hidden 8 --out "$T/in/afile"
bad train_out_no_parent "does not exist" "$T/o/no/dir" train --x "$T/in/x_ok.npy" --y "$T/in/y_ok.npy" --hidden 8 --out "$T/o/no/dir"
if [ "$(cat "$T/in/afile")" = "not a directory" ]; then pass train_out_file_untouched; else fail train_out_file_untouched "changed"; fi

Q=$T/o/bad.qam
bad quantize_missing_model "missing required option --model" "$Q" quantize --calib "$X" --out "$Q"
bad quantize_missing_calib "missing required option --calib" "$Q" quantize --model "$FM" --out "$Q"
bad quantize_missing_out "missing required option --out" "" quantize --model "$FM" --calib "$X"
bad quantize_model_missing "--model" "$Q" quantize --model "$T/o/nomodel" --calib "$X" --out "$Q"
bad quantize_model_is_file "not a directory" "$Q" quantize --model "$T/in/afile" --calib "$X" --out "$Q"
mkdir -p "$T/o/empty_model"
bad quantize_no_manifest "manifest.txt" "$Q" quantize --model "$T/o/empty_model" --calib "$X" --out "$Q"
mkdir -p "$T/o/broken_model"
cp "$FM"/*.npy "$T/o/broken_model/"
printf 'qarray-model 1\ndense w=l1_w.npy relu\ndense w=l1_w.npy\n' >"$T/o/broken_model/manifest.txt"
bad quantize_manifest_shapes "layer 1 has 64 inputs" "$Q" quantize --model "$T/o/broken_model" --calib "$X" --out "$Q"
printf 'qarray-model 1\ndense w=l0_w.npy b=l0_b.npy softmax\n' >"$T/o/broken_model/manifest.txt"
bad quantize_manifest_syntax "unknown attribute 'softmax'" "$Q" quantize --model "$T/o/broken_model" --calib "$X" --out "$Q"
bad quantize_calib_width "has 63 features, the model takes 64" "$Q" quantize --model "$FM" --calib "$T/in/calib63.npy" --out "$Q"
bad quantize_calib_int8 "expected float32 or uint8" "$Q" quantize --model "$FM" --calib "$T/in/calib_i8.npy" --out "$Q"
bad quantize_calib_1d "expected a matrix" "$Q" quantize --model "$FM" --calib "$Y" --out "$Q"
bad quantize_bad_method "--method 'median'" "$Q" quantize --model "$FM" --calib "$X" --method median --out "$Q"
bad quantize_bad_round "--round 'nearest'" "$Q" quantize --model "$FM" --calib "$X" --round nearest --out "$Q"
bad quantize_floor_round "--method floor always rounds with floor" "$Q" quantize --model "$FM" --calib "$X" --method floor --round half_even --out "$Q"
bad quantize_floor_per_channel "--per-channel does not apply" "$Q" quantize --model "$FM" --calib "$X" --method floor --per-channel --out "$Q"
bad quantize_percentile_zero "--percentile '0'" "$Q" quantize --model "$FM" --calib "$X" --method percentile --percentile 0 --out "$Q"
bad quantize_percentile_above "--percentile '100.5'" "$Q" quantize --model "$FM" --calib "$X" --method percentile --percentile 100.5 --out "$Q"
bad quantize_percentile_alone "--percentile needs --method percentile" "$Q" quantize --model "$FM" --calib "$X" --percentile 99 --out "$Q"
bad quantize_weight_bits_1 "--weight-bits '1'" "$Q" quantize --model "$FM" --calib "$X" --weight-bits 1 --out "$Q"
bad quantize_weight_bits_9 "--weight-bits '9'" "$Q" quantize --model "$FM" --calib "$X" --weight-bits 9 --out "$Q"
bad quantize_out_dir "is a directory" "" quantize --model "$FM" --calib "$X" --out "$T/o"
bad quantize_out_device "not a regular file" "" quantize --model "$FM" --calib "$X" --out /dev/null
bad quantize_out_no_dir "does not exist" "$T/o/none/m.qam" quantize --model "$FM" --calib "$X" --out "$T/o/none/m.qam"
bad quantize_relu_flag "unknown or malformed option '--relu'" "$Q" quantize --model "$FM" --calib "$X" --relu --out "$Q"

# a model whose outputs are far smaller than inputs times weights
mkdir -p "$T/o/neg"
"$MKNPY" "$T/o/neg/w.npy" float32 2x1 100,-100
printf 'qarray-model 1\ndense w=w.npy\n' >"$T/o/neg/manifest.txt"
"$MKNPY" "$T/in/negx.npy" float32 1x2 1,0.999
bad quantize_negative_shift "layer 0 column 0: shift" "$Q" quantize --model "$T/o/neg" --calib "$T/in/negx.npy" --out "$Q"
if grep -qF -- "--fit-shifts" "$T/stderr"; then pass negative_shift_suggests; else fail negative_shift_suggests "$(first_err)"; fi
run quantize --model "$T/o/neg" --calib "$T/in/negx.npy" --fit-shifts --out "$Q" --json
if [ $rc -eq 0 ] && [ "$(json "$T/stdout" '(d["fit_shifts"], d["layers"][0]["shift_min"])')" = "(True, 0)" ]; then
	pass quantize_fit_shifts
else
	fail quantize_fit_shifts "rc $rc: $(first_err)"
fi
# an existing output is replaced only on success
printf 'old' >"$T/o/keep.qam"
run quantize --model "$T/o/neg" --calib "$T/in/negx.npy" --out "$T/o/keep.qam"
if [ $rc -eq 1 ] && [ "$(cat "$T/o/keep.qam")" = old ] && [ -z "$(ls "$T/o" | grep '\.tmp\.')" ]; then
	pass quantize_failure_keeps_old_output
else
	fail quantize_failure_keeps_old_output "rc $rc"
fi

if [ -s "$T/max.eval" ]; then
	line="# digits test split, n=$(json "$T/max.eval" 'd["n"]'): float_acc=$(json "$T/max.eval" 'd["float_acc"]')"
	[ -s "$T/qat.eval" ] && line="$line; with --qat: float_acc=$(json "$T/qat.eval" 'd["float_acc"]') int8_acc=$(json "$T/qat.eval" 'd["int8_acc"]')"
	echo "$line"
fi
cat "$figures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
