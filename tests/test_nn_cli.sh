#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# test_nn_cli.sh - tests of `qarray train`, `quantize`, `run` and `eval`
# (docs/cli.md) on the handwritten digits of data/digits (data/README.md).
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
# numpy) must reproduce the golden logits bit for bit. `run` and `eval` put
# 3- and 4-layer networks on the simulated device, whose logits must equal
# nn_eval's golden logits; networks too large for the device's memories must
# be refused; a second qarray with a faulty qa_dev_net_run (ld --wrap) checks
# exit statuses 3 and 2. Then every class of bad input must end with exit
# status 1, a "qarray: " message and no output.
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

# ---- run and eval: whole networks resident on the device --------------------------
# Device logits must equal the golden logits of nn_eval (qa_nn_ref_forward,
# checked above against the Python inference) element for element.

# same_values A.npy B.npy: equal dtype, shape and values (mknpy --print)
same_values() {
	[ "$("$MKNPY" --print "$1" 2>&1)" = "$("$MKNPY" --print "$2" 2>&1)" ] && [ -s "$1" ]
}
# golden NAME MODEL.qam X.npy Y.npy: golden logits into $T/NAME.golden.npy
golden() {
	"$EVAL" --model "$2" --x "$3" --y "$4" --logits "$T/$1.golden.npy" >"$T/$1.golden.json" 2>&1
}

TX=$DATA/test_x.npy
TY=$DATA/test_y.npy
# a 3-layer and a 4-layer model, quantized differently
run train --x "$DATA/train_x.npy" --y "$DATA/train_y.npy" --hidden 32,16 --seed 3 --out "$T/o/f3"
run quantize --model "$T/o/f3" --calib "$DATA/train_x.npy" --out "$T/o/m3.qam"
rc3=$rc
run train --x "$DATA/train_x.npy" --y "$DATA/train_y.npy" --hidden 48,32,16 --seed 4 --epochs 20 --out "$T/o/f4"
run quantize --model "$T/o/f4" --calib "$DATA/train_x.npy" --method mse --per-channel --round half_even --out "$T/o/m4.qam"
if [ $rc3 -eq 0 ] && [ $rc -eq 0 ] && golden m3 "$T/o/m3.qam" "$TX" "$TY" && golden m4 "$T/o/m4.qam" "$TX" "$TY"; then
	pass net_models
else
	fail net_models "rc $rc3/$rc: $(first_err) $(cat "$T/m3.golden.json" "$T/m4.golden.json" 2>/dev/null)"
fi
# the 3-layer golden logits reproduced by the Python inference above
if out=$("$PY" "$T/qam.py" "$T/o/m3.qam" "$TX" "$T/m3.golden.npy" 2>&1); then
	pass independent_qam_reader_m3
else
	fail independent_qam_reader_m3 "$out"
fi
# run_equal NAME MODEL GOLDEN X ARGS...: run MODEL on X, logits equal to GOLDEN
run_equal() {
	local name=$1 model=$2 gold=$3 x=$4
	shift 4
	run run --model "$model" --x "$x" --out "$T/o/$name.npy" "$@"
	if [ $rc -ne 0 ]; then
		fail "$name" "rc $rc: $(first_err)"
	elif ! same_values "$T/o/$name.npy" "$gold"; then
		fail "$name" "device logits differ from the golden logits"
	else
		pass "$name"
	fi
}
run_equal run_device_equals_golden_3_layers "$T/o/m3.qam" "$T/m3.golden.npy" "$TX" --stats
cp "$T/stdout" "$T/run3.json"
run_equal run_device_equals_golden_4_layers "$T/o/m4.qam" "$T/m4.golden.npy" "$TX" --check
run_equal run_device_equals_golden_8x8 "$T/o/m4.qam" "$T/m4.golden.npy" "$TX" --target sim:8x8
run_equal run_device_equals_golden_floor "$T/o/floor.qam" "$T/floor.logits.npy" "$TX" --check
# float32 input: the same rows as float32 give the same logits as uint8
"$PY" - "$TX" "$T/in/test_f32.npy" <<'EOF_PY'
import struct, sys
raw = open(sys.argv[1], 'rb').read()
hlen = struct.unpack('<H', raw[8:10])[0]
hdr = raw[10:10 + hlen].decode('latin1')
assert "'|u1'" in hdr, hdr
body = raw[10 + hlen:]
h = hdr.replace("'|u1'", "'<f4'").rstrip('\n').rstrip()
h = h + ' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + '\n'
open(sys.argv[2], 'wb').write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h)) + h.encode('latin1') +
                              struct.pack('<%df' % len(body), *body))
EOF_PY
run_equal run_float32_input "$T/o/m3.qam" "$T/m3.golden.npy" "$T/in/test_f32.npy"
# int8 input is taken as already quantized
"$MKNPY" "$T/in/xq.npy" int8 50x64 rand:7:-128:127
"$MKNPY" "$T/in/yq.npy" int64 50 rand:8:0:9
golden xq "$T/o/m4.qam" "$T/in/xq.npy" "$T/in/yq.npy"
run_equal run_int8_input "$T/o/m4.qam" "$T/xq.golden.npy" "$T/in/xq.npy" --check

# --stats: the counters against figures computed here (64-32-16-10)
if [ -s "$T/run3.json" ] && [ "$(json "$T/run3.json" '(d["target"], d["n"], d["inputs"], d["outputs"], d["layers"], d["macs"] == 360 * (64*32 + 32*16 + 16*10), d["checked"], d["mismatches"], d["bytes_from_device"] >= 3600, d["bytes_to_device"] >= 360 * 64)')" = "('sim', 360, 64, 10, 3, True, False, 0, True, True)" ] &&
	[ "$(json "$T/run3.json" 'abs(d["cycles_per_inference"] - d["busy_cycles"] / 360) < 0.06 and abs(d["inferences_per_s_compute"] - d["clock_mhz"] * 1e6 * 360 / d["busy_cycles"]) <= 1 and abs(d["inferences_per_s_link_3mbaud"] - 3e5 * 360 / (d["bytes_to_device"] + d["bytes_from_device"])) <= 1 and abs(d["inferences_per_s_link_12mbaud"] - 4 * d["inferences_per_s_link_3mbaud"]) <= 4')" = True ]; then
	pass run_stats_json
else
	fail run_stats_json "$(cat "$T/run3.json")"
fi

# eval: float and golden accuracy as nn_eval measures them, the device equal
"$EVAL" --model "$T/o/m4.qam" --float-model "$T/o/f4" --x "$TX" --y "$TY" >"$T/m4.eval" 2>&1
run eval --model "$T/o/m4.qam" --float-model "$T/o/f4" --x "$TX" --y "$TY"
cp "$T/stdout" "$T/eval4.json"
if [ $rc -eq 0 ] && [ "$(wc -l <"$T/eval4.json")" = 1 ] &&
	[ "$(json "$T/eval4.json" '(d["n"], d["layers"], d["device_matches_golden"], d["mismatches"], d["device_acc"] == d["int8_acc"], d["model_bytes_int8"])')" = "(360, 4, True, 0, True, $(stat -c %s "$T/o/m4.qam"))" ] &&
	[ "$("$PY" -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); print(a["float_acc"] == b["float_acc"] and a["int8_acc"] == b["int8_acc"])' "$T/eval4.json" "$T/m4.eval")" = True ]; then
	pass eval_device_matches_golden
else
	fail eval_device_matches_golden "rc $rc: $(cat "$T/eval4.json") vs $(cat "$T/m4.eval") $(first_err)"
fi
if [ -s "$T/eval4.json" ] && [ "$(json "$T/eval4.json" '(d["model_bytes_float"] == 4 * (64*48 + 48 + 48*32 + 32 + 32*16 + 16 + 16*10 + 10), d["clock_mhz"] > 0, d["cycles_per_inference"] > 0, d["inferences_per_s_compute"] > d["inferences_per_s_link_12mbaud"] > d["inferences_per_s_link_3mbaud"] > 0)')" = "(True, True, True, True)" ]; then
	pass eval_json_fields
else
	fail eval_json_fields "$(cat "$T/eval4.json")"
fi
run eval --target sim:2x2 --model "$T/o/floor.qam" --float-model "$FM" --x "$TX" --y "$TY"
if [ $rc -eq 0 ] && [ "$(json "$T/stdout" '(d["device_matches_golden"], d["int8_acc"])')" = "(True, $(json "$T/floor.eval" 'd["int8_acc"]'))" ]; then
	pass eval_floor_baseline_2x2
else
	fail eval_floor_baseline_2x2 "rc $rc: $(cat "$T/stdout") $(first_err)"
fi

run help run
if [ $rc -eq 0 ] && grep -q '^Usage: qarray run' "$T/stdout"; then pass help_run; else fail help_run "rc $rc"; fi
run eval --help
if [ $rc -eq 0 ] && grep -q '^Usage: qarray eval' "$T/stdout"; then pass help_eval; else fail help_eval "rc $rc"; fi
run --help
if [ $rc -eq 0 ] && grep -q '^  run ' "$T/stdout" && grep -q '^  eval ' "$T/stdout"; then
	pass help_lists_run_eval
else
	fail help_lists_run_eval "rc $rc"
fi

# a model that does not fit the device's memories runs streamed, a GEMM per
# layer, with the golden logits (--check); -v says so. The widest hidden layer
# the bias/shift memory cannot hold, from `qarray info`.
run info
cp "$T/stdout" "$T/info.json"
wide=$(json "$T/stdout" '2 * d["pg_max"] * d["cols"] + d["cols"]' 2>/dev/null || echo 0)
mkdir -p "$T/o/wide"
"$MKNPY" "$T/o/wide/w0.npy" float32 "64x$wide" rand:11:-1:1
"$MKNPY" "$T/o/wide/w1.npy" float32 "${wide}x10" rand:12:-1:1
printf 'qarray-model 1\ndense w=w0.npy relu\ndense w=w1.npy\n' >"$T/o/wide/manifest.txt"
run quantize --model "$T/o/wide" --calib "$DATA/train_x.npy" --out "$T/o/wide.qam"
if [ $rc -eq 0 ] && [ "$wide" -gt 0 ]; then
	run -v run --model "$T/o/wide.qam" --x "$TX" --out "$T/o/wide_out.npy" --check
	if [ $rc -eq 0 ] && [ -s "$T/o/wide_out.npy" ] && grep -q "layers streamed" "$T/stderr" &&
		grep -q "does not fit the device's table" "$T/stderr"; then
		pass run_model_too_large_runs_streamed
	else
		fail run_model_too_large_runs_streamed "rc $rc: $(grep -m1 -e streamed -e 'qarray: ' "$T/stderr")"
	fi
	run eval --model "$T/o/wide.qam" --float-model "$T/o/wide" --x "$TX" --y "$TY"
	if [ $rc -eq 0 ]; then pass eval_model_too_large_runs_streamed; else fail eval_model_too_large_runs_streamed "rc $rc: $(first_err)"; fi
else
	fail run_model_too_large_runs_streamed "cannot make the wide model (width $wide): $(first_err)"
fi
# a layer wider than the device's k_max: exit 1, and an older output is kept
kmax=$(json "$T/info.json" 'd["k_max"]' 2>/dev/null || echo 0)
kbig=$((kmax + 1))
mkdir -p "$T/o/deep"
"$MKNPY" "$T/o/deep/w0.npy" float32 "${kbig}x4" rand:13:-1:1
printf 'qarray-model 1\ndense w=w0.npy\n' >"$T/o/deep/manifest.txt"
"$MKNPY" "$T/in/xk.npy" float32 "2x$kbig" rand:14:-4:4
run quantize --model "$T/o/deep" --calib "$T/in/xk.npy" --out "$T/o/deep.qam"
if [ $rc -eq 0 ]; then
	bad run_k_above_k_max "exceeds the device's k_max = $kmax" "$T/o/deep_out.npy" run --model "$T/o/deep.qam" --x "$T/in/xk.npy" --out "$T/o/deep_out.npy"
	printf 'old' >"$T/o/keep.npy"
	run run --model "$T/o/deep.qam" --x "$T/in/xk.npy" --out "$T/o/keep.npy"
	if [ $rc -eq 1 ] && [ "$(cat "$T/o/keep.npy")" = old ] && [ -z "$(ls "$T/o" | grep '\.tmp')" ]; then
		pass run_failure_keeps_old_output
	else
		fail run_failure_keeps_old_output "rc $rc"
	fi
else
	fail run_k_above_k_max "quantize: $(first_err)"
fi

# bad input for run and eval
M3=$T/o/m3.qam
L=$T/o/logits.npy
"$MKNPY" "$T/in/x_i32.npy" int32 3x64 rand:1:0:16
"$MKNPY" "$T/in/x63.npy" float32 3x63 rand:1:0:16
"$MKNPY" "$T/in/x64_nan.npy" float32 1x64 nan,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
"$MKNPY" "$T/in/x64_1d.npy" float32 64 rand:1:0:16
"$MKNPY" "$T/in/x3.npy" float32 3x64 rand:1:0:16
"$MKNPY" "$T/in/x3_i8.npy" int8 3x64 rand:1:0:16
"$MKNPY" "$T/in/y2.npy" int64 2 0,1
"$MKNPY" "$T/in/y3_10.npy" int64 3 0,10,1
"$MKNPY" "$T/in/y3_f.npy" float32 3 0,1,2
"$MKNPY" "$T/in/y3.npy" int64 3 0,1,2
head -c 100 "$M3" >"$T/in/trunc.qam"
mkdir -p "$T/special" && [ -p "$T/special/fifo" ] || mkfifo "$T/special/fifo"
bad run_missing_model "missing required option --model" "$L" run --x "$TX" --out "$L"
bad run_missing_x "missing required option --x" "$L" run --model "$M3" --out "$L"
bad run_missing_out "missing required option --out" "" run --model "$M3" --x "$TX"
bad run_model_missing_file "--model" "$L" run --model "$T/in/none.qam" --x "$TX" --out "$L"
bad run_model_truncated "truncated" "$L" run --model "$T/in/trunc.qam" --x "$TX" --out "$L"
bad run_model_not_qam "--model" "$L" run --model "$TX" --x "$TX" --out "$L"
bad run_x_missing_file "--x" "$L" run --model "$M3" --x "$T/in/none.npy" --out "$L"
bad run_x_int32 "dtype int32, expected float32 or uint8 (features) or int8" "$L" run --model "$M3" --x "$T/in/x_i32.npy" --out "$L"
bad run_x_1d "expected a matrix" "$L" run --model "$M3" --x "$T/in/x64_1d.npy" --out "$L"
bad run_x_width "has 63 features, the model takes 64" "$L" run --model "$M3" --x "$T/in/x63.npy" --out "$L"
bad run_x_nan "not finite" "$L" run --model "$M3" --x "$T/in/x64_nan.npy" --out "$L"
bad run_out_is_dir "is a directory" "" run --model "$M3" --x "$TX" --out "$T/o"
bad run_out_no_dir "does not exist" "$T/o/none/l.npy" run --model "$M3" --x "$TX" --out "$T/o/none/l.npy"
bad run_out_under_file "Not a directory" "" run --model "$M3" --x "$TX" --out "$T/in/afile/l.npy"
bad run_out_not_regular "not a regular file" "" run --model "$M3" --x "$TX" --out "$T/special/fifo"
if [ -p "$T/special/fifo" ]; then pass run_special_file_untouched; else fail run_special_file_untouched "replaced"; fi
if [ "$(id -u)" -ne 0 ]; then
	mkdir -p "$T/ro" && chmod 555 "$T/ro"
	bad run_out_unwritable_dir "writable" "$T/ro/l.npy" run --model "$M3" --x "$TX" --out "$T/ro/l.npy"
	chmod 755 "$T/ro"
fi
bad run_trace_no_dir "--trace" "$L" run --model "$M3" --x "$TX" --out "$L" --trace "$T/o/none/t.fst"
bad run_bad_target "no simulator model '9x9'" "$L" run --target sim:9x9 --model "$M3" --x "$TX" --out "$L"
bad run_y_not_an_option "unknown or malformed option '--y'" "$L" run --model "$M3" --x "$TX" --y "$TY" --out "$L"
bad run_extra_word "unexpected argument 'more'" "$L" run --model "$M3" --x "$TX" --out "$L" more
bad eval_missing_float_model "missing required option --float-model" "" eval --model "$M3" --x "$TX" --y "$TY"
bad eval_missing_y "missing required option --y" "" eval --model "$M3" --float-model "$T/o/f3" --x "$TX"
bad eval_out_not_an_option "unknown or malformed option '--out'" "$L" eval --model "$M3" --float-model "$T/o/f3" --x "$TX" --y "$TY" --out "$L"
bad eval_x_int8 "dtype int8, expected float32 or uint8 (features)" "" eval --model "$M3" --float-model "$T/o/f3" --x "$T/in/x3_i8.npy" --y "$T/in/y3.npy"
bad eval_y_length "has 3 rows but --y" "" eval --model "$M3" --float-model "$T/o/f3" --x "$T/in/x3.npy" --y "$T/in/y2.npy"
bad eval_label_beyond_outputs "label 10 at index 1, but the model has 10 outputs" "" eval --model "$M3" --float-model "$T/o/f3" --x "$T/in/x3.npy" --y "$T/in/y3_10.npy"
bad eval_y_float "expected an integer dtype" "" eval --model "$M3" --float-model "$T/o/f3" --x "$T/in/x3.npy" --y "$T/in/y3_f.npy"
bad eval_y_missing_file "--y" "" eval --model "$M3" --float-model "$T/o/f3" --x "$T/in/x3.npy" --y "$T/in/none.npy"
bad eval_float_model_layers "has 2 layers, --model" "" eval --model "$M3" --float-model "$FM" --x "$TX" --y "$TY"
run train --x "$DATA/train_x.npy" --y "$DATA/train_y.npy" --hidden 16,16 --epochs 1 --out "$T/o/f3b"
bad eval_float_model_shapes "layer 0 is 64x16 in one and 64x32 in the other" "" eval --model "$M3" --float-model "$T/o/f3b" --x "$TX" --y "$TY"
bad eval_float_model_missing "--float-model" "" eval --model "$M3" --float-model "$T/o/nomodel" --x "$TX" --y "$TY"

# ---- a faulty device: exit 3 when run --check or eval sees a difference, 2 on failure ----
# No device gives wrong answers on purpose, so this builds a second qarray
# whose qa_dev_net_run is wrapped (ld --wrap): QA_FAULT=flip corrupts two
# logits after a correct run, QA_FAULT=timeout fails the run. Like
# mk/host.mk it compiles every host/cli/*.c; compile and link flags follow
# mk/host.mk (QA_LDLIBS overrides the link libraries).
ROOT=$(cd "$HERE/.." && pwd)
cat >"$T/netfault.c" <<'EOF_C'
#include <stdlib.h>
#include <string.h>
#include "qarray.h"
int __real_qa_dev_net_run(qa_dev *dev, size_t m, const int8_t *x, int8_t *y,
			  qa_stats *st);
int __wrap_qa_dev_net_run(qa_dev *dev, size_t m, const int8_t *x, int8_t *y,
			  qa_stats *st);
int __wrap_qa_dev_net_run(qa_dev *dev, size_t m, const int8_t *x, int8_t *y,
			  qa_stats *st)
{
	const char *fault = getenv("QA_FAULT");
	int rc;

	if (fault && strcmp(fault, "timeout") == 0)
		return QA_ERR_TIMEOUT;
	rc = __real_qa_dev_net_run(dev, m, x, y, st);
	if (rc == QA_OK && fault && strcmp(fault, "flip") == 0) {
		y[1] = (int8_t)(y[1] ^ 0x10);
		y[m * 10 - 1] = (int8_t)(y[m * 10 - 1] ^ 0x01);
	}
	return rc;
}
EOF_C
FAULTY=$T/qarray-netfault
build_faulty() {
	${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror "$@" \
		-I"$ROOT/host/include" -I"$ROOT/host/src" -I"$ROOT/host/ftdi" -I"$ROOT/sim" \
		$(pkg-config --cflags libftdi1 libusb-1.0 2>/dev/null) -o "$FAULTY" "$ROOT"/host/cli/*.c \
		"$T/netfault.c" "$BUILD/libqarray.a" -Wl,--wrap=qa_dev_net_run \
		${QA_LDLIBS:--lstdc++ -lz -lpthread -lm $(pkg-config --libs libftdi1 libusb-1.0 2>/dev/null)} \
		2>"$T/cc.log"
}
if build_faulty || build_faulty -fsanitize=address,undefined; then
	pass net_faulty_build
	# golden logits[0,1] and [359,9], and what the flips make of them
	expect=$("$PY" -c '
import sys; sys.path.insert(0, sys.argv[1]); import qam
_, g = qam.read_npy(sys.argv[2]); s = lambda v: v - 256 if v > 127 else v
a, b = g[1], g[-1]
print(a, s((a & 255) ^ 0x10), b, s((b & 255) ^ 1))' "$T" "$T/m3.golden.npy")
	read -r g1 d1 g2 d2 <<<"$expect"
	QA_FAULT=flip "$FAULTY" run --model "$M3" --x "$TX" --out "$L" --check --stats >"$T/stdout" 2>"$T/stderr"
	rc=$?
	if [ $rc -ne 3 ]; then
		fail run_check_mismatch_exit_3 "exit $rc: $(first_err)"
	elif ! grep -q '^qarray: check: 2 of 3600 outputs differ' "$T/stderr" ||
		! grep -q "logits\[0,1\]: device $d1, golden $g1\$" "$T/stderr" ||
		! grep -q "logits\[359,9\]: device $d2, golden $g2\$" "$T/stderr"; then
		fail run_check_mismatch_exit_3 "stderr: $(tr '\n' '|' <"$T/stderr") expected $expect"
	elif same_values "$L" "$T/m3.golden.npy" || [ ! -s "$L" ]; then
		fail run_check_mismatch_exit_3 "the device's logits were not written"
	elif ! grep -q '"checked":true,"mismatches":2}$' "$T/stdout"; then
		fail run_check_mismatch_exit_3 "stats: $(cat "$T/stdout")"
	else
		pass run_check_mismatch_exit_3
	fi
	QA_FAULT=flip "$FAULTY" eval --model "$M3" --float-model "$T/o/f3" --x "$TX" --y "$TY" >"$T/stdout" 2>"$T/stderr"
	rc=$?
	if [ $rc -eq 3 ] && [ "$(json "$T/stdout" '(d["device_matches_golden"], d["mismatches"])')" = "(False, 2)" ]; then
		pass eval_mismatch_exit_3
	else
		fail eval_mismatch_exit_3 "exit $rc: $(cat "$T/stdout") $(first_err)"
	fi
	QA_FAULT=flip "$FAULTY" run --model "$M3" --x "$TX" --out "$L" >"$T/stdout" 2>"$T/stderr"
	rc=$?
	if [ $rc -eq 0 ]; then pass run_no_check_exit_0; else fail run_no_check_exit_0 "exit $rc"; fi
	rm -f "$L"
	for cmd in run eval; do
		if [ $cmd = run ]; then
			QA_FAULT=timeout "$FAULTY" run --model "$M3" --x "$TX" --out "$L" --check --stats >"$T/stdout" 2>"$T/stderr"
		else
			QA_FAULT=timeout "$FAULTY" eval --model "$M3" --float-model "$T/o/f3" --x "$TX" --y "$TY" >"$T/stdout" 2>"$T/stderr"
		fi
		rc=$?
		if [ $rc -eq 2 ] && first_err | grep -q '^qarray: network run failed: .*time' && [ ! -e "$L" ] && [ ! -s "$T/stdout" ]; then
			pass "${cmd}_device_failure_exit_2"
		else
			fail "${cmd}_device_failure_exit_2" "exit $rc: $(first_err)"
		fi
	done
else
	fail net_faulty_build "$(head -c 600 "$T/cc.log")"
fi

if [ -s "$T/max.eval" ]; then
	line="# digits test split, n=$(json "$T/max.eval" 'd["n"]'): float_acc=$(json "$T/max.eval" 'd["float_acc"]')"
	[ -s "$T/qat.eval" ] && line="$line; with --qat: float_acc=$(json "$T/qat.eval" 'd["float_acc"]') int8_acc=$(json "$T/qat.eval" 'd["int8_acc"]')"
	echo "$line"
fi
cat "$figures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
