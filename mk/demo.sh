#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - `make demo`: a handwritten-digit classifier from end to end.
#
# Trains a float MLP on the training split of data/digits (or reuses the one
# cached under BUILD_DIR/demo, keyed by the qarray binary, the data and the
# training options), quantizes it to power-of-two int8 (calibrated on the
# training split), and runs the whole test split on the cycle-accurate RTL
# through the device path: the network is made resident once and every
# image goes in and its logits come out (`qarray eval`). Then the same for
# the seed's floor quantization, and a sweep of weight bit widths (8, 6, 4,
# 3, 2) over calibration methods and rounding modes, every point also run
# on the device, plotted with gnuplot when it is installed.
#
# Progress goes to stderr; stdout gets a table and, last, one JSON line.
# Exit status 1 when any device output differs from the golden model.
#
# usage: mk/demo.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
qarray=$build/qarray
root=$(cd "$(dirname "$0")/.." && pwd)
data=$root/data/digits
out=$build/demo
PY=${PYTHON:-python3}
GNUPLOT=${GNUPLOT:-gnuplot}

# the network: 64 inputs, two hidden layers of 64, 10 classes
HIDDEN=64,64
EPOCHS=40
SEED=1
BITS="8 6 4 3 2"
# accuracy-versus-bits series: name, then quantize options
SERIES=(
	"max|--method max"
	"percentile|--method percentile"
	"mse|--method mse"
	"max_per_channel|--method max --per-channel"
	"mse_per_channel|--method mse --per-channel"
	"round_floor|--method max --round floor"
	"round_half_away|--method max --round half_away"
	"round_half_even|--method max --round half_even"
)

say() { printf 'demo: %s\n' "$*" >&2; }

mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/qarray-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT

say "device: $("$qarray" info)"
"$qarray" info >"$work/info.json"

# ---- 1. the float model, cached ------------------------------------------------
key=$(cat "$qarray" "$data/train_x.npy" "$data/train_y.npy" |
	{ sha256sum; echo "hidden=$HIDDEN epochs=$EPOCHS seed=$SEED"; } | sha256sum | cut -c1-16)
fmodel=$out/float-$key
if [[ -s $fmodel/manifest.txt && -s $fmodel/train.json ]]; then
	say "float model: reusing $fmodel (same qarray binary, data and options)"
	cached=true
else
	say "float model: training $HIDDEN hidden, $EPOCHS epochs, seed $SEED on $(basename "$data")/train_x.npy..."
	rm -rf "$out"/float-* "$out/.float-new"
	"$qarray" train --x "$data/train_x.npy" --y "$data/train_y.npy" --hidden "$HIDDEN" \
		--epochs "$EPOCHS" --seed "$SEED" --out "$out/.float-new" --json >"$work/train.json"
	cp "$work/train.json" "$out/.float-new/train.json"
	mv "$out/.float-new" "$fmodel"
	cached=false
fi

# ---- 2. quantize, run the test split on the device ------------------------------
# evaluate NAME MODEL.qam: `qarray eval` on the test split into $work/NAME.eval;
# exit 3 (a device output differs from the golden model) is recorded, not fatal
mismatched=0
evaluate() {
	local rc=0
	"$qarray" eval --model "$2" --float-model "$fmodel" --x "$data/test_x.npy" \
		--y "$data/test_y.npy" >"$work/$1.eval" || rc=$?
	if ((rc == 3)); then
		mismatched=$((mismatched + 1))
	elif ((rc != 0)); then
		say "qarray eval of $1 failed (exit $rc)"
		exit 1
	fi
}

say "quantizing: max calibration on the training split, per-tensor weights, round half_up..."
"$qarray" quantize --model "$fmodel" --calib "$data/train_x.npy" --out "$out/digits.qam" \
	2>"$work/quantize.txt"
say "running the test split on the simulated device (qarray eval)..."
evaluate int8 "$out/digits.qam"
say "the floor baseline (the seed's formula: Q0.7 everywhere, truncation)..."
"$qarray" quantize --model "$fmodel" --calib "$data/train_x.npy" --method floor \
	--out "$out/digits_floor.qam" 2>/dev/null
evaluate floor "$out/digits_floor.qam"

# ---- 3. accuracy versus weight bits --------------------------------------------
: >"$work/sweep.txt"
for s in "${SERIES[@]}"; do
	name=${s%%|*}
	read -r -a opts <<<"${s#*|}"
	say "weight bits $BITS: $name"
	for b in $BITS; do
		if "$qarray" quantize --model "$fmodel" --calib "$data/train_x.npy" "${opts[@]}" \
			--weight-bits "$b" --fit-shifts --out "$work/sweep.qam" 2>"$work/sweep.err"; then
			evaluate sweep "$work/sweep.qam"
			echo "$name $b $(cat "$work/sweep.eval")" >>"$work/sweep.txt"
		else
			say "  $b bits: $(head -n 1 "$work/sweep.err")"
			echo "$name $b null" >>"$work/sweep.txt"
		fi
	done
done

# ---- 4. table, plot data, JSON --------------------------------------------------
"$PY" - "$work" "$out" "$fmodel" "$cached" "$HIDDEN" "$BITS" "$mismatched" <<'PY'
import json, os, sys
work, out, fmodel, cached, hidden, bits, mismatched = sys.argv[1:]
bits = [int(b) for b in bits.split()]
load = lambda name: json.load(open(os.path.join(work, name)))
info, tr, q, fl = load("info.json"), json.load(open(os.path.join(fmodel, "train.json"))), load("int8.eval"), load("floor.eval")
sweep = {}
for line in open(os.path.join(work, "sweep.txt")):
    name, b, js = line.split(" ", 2)
    sweep.setdefault(name, {})[int(b)] = None if js.strip() == "null" else json.loads(js)
pct = lambda v: "%6.2f%%" % (100 * v)
dims = [tr["inputs"]] + tr["hidden"] + [tr["classes"]]
peak = info["rows"] * info["cols"]
ratio = q["model_bytes_int8"] / q["model_bytes_float"]
gap = 100 * (q["float_acc"] - q["int8_acc"])
print("qarray demo: handwritten digits, float MLP -> power-of-two int8 -> the cycle-accurate RTL")
print()
print("device   sim: %dx%d int8 array (Verilator model of the RTL), %g MHz clock" % (info["rows"], info["cols"], info["clock_hz"] / 1e6))
print("data     data/digits: %d training images, %d test images (8x8, pixels 0..16), %d classes" % (tr["examples"], q["n"], tr["classes"]))
print("model    %s MLP, ReLU, %d dense layers, %d parameters (%s; %s)" % (
    "-".join(map(str, dims)), len(dims) - 1, tr["parameters"],
    "%d epochs, seed %d" % (tr["epochs"], tr["seed"]),
    "cached float model reused" if cached == "true" else "trained in %.1f s" % tr["wall_s"]))
print()
print("quantized: max calibration on the training split, per-tensor weights, round half_up")
for line in open(os.path.join(work, "quantize.txt")):
    if not line.startswith("qarray: "):
        print("  " + line.rstrip())
print()
print("%-40s %13s %12s" % ("", "test accuracy", "model bytes"))
print("%-40s %13s %12d" % ("float32 (host)", pct(q["float_acc"]), q["model_bytes_float"]))
print("%-40s %13s %12d  (%.2f%% of float)" % ("int8, golden model (host)", pct(q["int8_acc"]), q["model_bytes_int8"], 100 * ratio))
print("%-40s %13s %12s  %s" % ("int8, on the device (simulated RTL)", pct(q["device_acc"]), "",
      "every logit equal to the golden model's (%d x %d)" % (q["n"], q["classes"]) if q["device_matches_golden"]
      else "%d logits DIFFER from the golden model" % q["mismatches"]))
print("%-40s %13s %12d" % ("int8, floor baseline (seed's formula)", pct(fl["int8_acc"]), fl["model_bytes_int8"]))
print()
print("per inference on the device: %.1f cycles for %d MACs (%.1f%% of the array's peak while busy)" % (
    q["cycles_per_inference"], q["macs_per_inference"], 100 * q["macs_per_inference"] / (q["cycles_per_inference"] * peak)))
print("inferences/s: %.0f compute-bound at %g MHz; link-bound %.0f at 3 Mbaud, %.0f at 12 Mbaud (%.1f bytes each)" % (
    q["inferences_per_s_compute"], q["clock_mhz"], q["inferences_per_s_link_3mbaud"], q["inferences_per_s_link_12mbaud"],
    q["link_bytes_per_inference"]))
print()
print("test accuracy vs weight bits (activations 8 bits; --fit-shifts; every point run on the device):")
print("%-18s" % "series" + "".join("%9s" % ("%d bits" % b) for b in bits))
sweep_ok, sweep_n = True, 0
with open(os.path.join(out, "accuracy_vs_bits.dat"), "w") as dat:
    names = list(sweep)
    dat.write("# bits float floor " + " ".join(names) + "\n")
    for b in bits:
        row = []
        for n in names:
            e = sweep[n].get(b)
            row.append("NaN" if e is None else "%.4f" % (100 * e["int8_acc"]))
        dat.write("%d %.4f %.4f %s\n" % (b, 100 * q["float_acc"], 100 * fl["int8_acc"], " ".join(row)))
for n in sweep:
    cells = []
    for b in bits:
        e = sweep[n].get(b)
        if e is None:
            cells.append("%9s" % "-")
            continue
        sweep_n += 1
        sweep_ok = sweep_ok and e["device_matches_golden"]
        cells.append("%8.2f%%" % (100 * e["int8_acc"]) if e["device_matches_golden"] else "%8s!" % "DIFF")
    print("%-18s" % n + "".join(cells))
print()
met = lambda c: "yes" if c else "NO"
print("targets: device == golden: %s; int8 within 1.0 pp of float: %s (float - int8 = %+.2f pp); int8 bytes <= 26%% of float: %s (%.2f%%)" % (
    met(q["device_matches_golden"]), met(gap <= 1.0 + 1e-9), gap, met(ratio <= 0.26), 100 * ratio))
res = {
    "float_acc": q["float_acc"], "int8_acc": q["int8_acc"], "device_acc": q["device_acc"],
    "device_matches_golden": q["device_matches_golden"], "floor_acc": fl["int8_acc"],
    "model_bytes_float": q["model_bytes_float"], "model_bytes_int8": q["model_bytes_int8"],
    "size_ratio": round(ratio, 6), "cycles_per_inference": q["cycles_per_inference"],
    "clock_mhz": q["clock_mhz"], "inferences_per_s_compute": q["inferences_per_s_compute"],
    "inferences_per_s_link_3mbaud": q["inferences_per_s_link_3mbaud"],
    "inferences_per_s_link_12mbaud": q["inferences_per_s_link_12mbaud"],
    "n": q["n"], "layers": q["layers"], "hidden": tr["hidden"], "target": q["target"],
    "sweep_points": sweep_n, "sweep_device_matches_golden": sweep_ok,
    "mismatched_runs": int(mismatched),
}
json.dump(res, open(os.path.join(work, "result.json"), "w"), separators=(",", ":"))
open(os.path.join(work, "dims.txt"), "w").write("-".join(map(str, dims)) + "\n")
PY

# the plot: two panels, calibration methods and rounding modes
plot=$out/accuracy_vs_bits.png
if command -v "$GNUPLOT" >/dev/null 2>&1; then
	say "plotting $plot..."
	rm -f "$plot"
	if "$GNUPLOT" 2>"$work/gnuplot.err" <<EOF
set terminal pngcairo size 1200,500 font ",10" noenhanced
set output "$plot"
set multiplot layout 1,2 title "qarray: digits test accuracy vs weight bits (MLP $(cat "$work/dims.txt"), activations int8, run on the simulated RTL)"
set xrange [8.5:1.5]
set xtics ("8" 8, "6" 6, "4" 4, "3" 3, "2" 2)
set yrange [0:100]
set xlabel "weight bits"
set ylabel "test accuracy (%)"
set key bottom left
set grid
dat = "$out/accuracy_vs_bits.dat"
set title "calibration methods (round half_up)"
plot dat using 1:2 with lines dt 2 lc rgb "black" title "float32", \
     dat using 1:3 with lines dt 3 lc rgb "gray40" title "floor baseline (8 bits)", \
     dat using 1:4 with linespoints title "max", \
     dat using 1:5 with linespoints title "percentile 99.99", \
     dat using 1:6 with linespoints title "mse", \
     dat using 1:7 with linespoints title "max, per channel", \
     dat using 1:8 with linespoints title "mse, per channel"
set title "rounding modes (max calibration, per tensor)"
plot dat using 1:2 with lines dt 2 lc rgb "black" title "float32", \
     dat using 1:3 with lines dt 3 lc rgb "gray40" title "floor baseline (8 bits)", \
     dat using 1:9 with linespoints title "floor", \
     dat using 1:4 with linespoints title "half_up", \
     dat using 1:10 with linespoints title "half_away", \
     dat using 1:11 with linespoints title "half_even"
unset multiplot
EOF
	then
		echo "plot: $plot (accuracy vs weight bits; data in $out/accuracy_vs_bits.dat)"
		plotted=true
	else
		say "gnuplot failed: $(head -n 3 "$work/gnuplot.err")"
		echo "plot: skipped (gnuplot failed; data in $out/accuracy_vs_bits.dat)"
		plotted=false
	fi
else
	echo "plot: skipped, gnuplot is not installed (Debian: apt-get install gnuplot-nox); data in $out/accuracy_vs_bits.dat"
	plotted=false
fi

"$PY" - "$work/result.json" "$plotted" "$plot" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r["plot"] = sys.argv[3] if sys.argv[2] == "true" else None
print(json.dumps(r, separators=(",", ":")))
PY
if ((mismatched)); then
	say "$mismatched device run(s) differed from the golden model"
	exit 1
fi
