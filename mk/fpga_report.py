#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""fpga_report.py - turn nextpnr's --report JSON files into qarray's board report.

  fpga_report.py best  R1.json R2.json ...   print the seed (from seedN.report.json) with the highest Fmax
  fpga_report.py line  --board ... R1.json   print one JSON line for the board
  fpga_report.py table L1.jsonl ...          print the human table of JSON lines

The core clock is the one nextpnr reports for the PLL output; Fmax per seed
is nextpnr's "achieved" figure for that clock (the minimum over clocks if a
design had several constrained ones).
"""
import argparse
import json
import os
import re
import statistics
import sys

# nextpnr cell types per family: (LUTs, DSPs, block RAMs, other RAM)
CELLS = {
    "ice40": ("ICESTORM_LC", "ICESTORM_DSP", "ICESTORM_RAM", "ICESTORM_SPRAM"),
    "ecp5": ("TRELLIS_COMB", "MULT18X18D", "DP16KD", None),
}


def load(path):
    with open(path) as f:
        return json.load(f)


def fmax_of(rep):
    fm = rep.get("fmax", {})
    vals = [v["achieved"] for v in fm.values() if "achieved" in v]
    if not vals:
        raise SystemExit("no Fmax in report")
    return min(vals)


def seed_of(path):
    m = re.search(r"seed(\d+)\.report\.json$", path)
    if not m:
        raise SystemExit(f"{path}: not a seedN.report.json")
    return int(m.group(1))


def util(rep, cell):
    if cell is None:
        return 0, 0
    u = rep.get("utilization", {}).get(cell)
    if u is None and cell == "TRELLIS_COMB":  # older nextpnr-ecp5: slices of 2 LUT4
        u = rep.get("utilization", {}).get("TRELLIS_SLICE")
        if u:
            return 2 * u["used"], 2 * u["available"]
    if u is None:
        return 0, 0
    return u["used"], u["available"]


def read_int(path):
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def cmd_best(args):
    best = max(args.reports, key=lambda p: fmax_of(load(p)))
    print(seed_of(best))


def cmd_line(args):
    reps = [load(p) for p in args.reports]
    fmax = [round(fmax_of(r), 2) for r in reps]
    lut_c, dsp_c, bram_c, spram_c = CELLS[args.family]
    first = reps[0]  # utilization is the same for every seed (same netlist)
    luts, luts_total = util(first, lut_c)
    dsps, dsps_total = util(first, dsp_c)
    brams, brams_total = util(first, bram_c)
    sprams, sprams_total = util(first, spram_c)
    clock_mhz = args.clock_hz / 1e6
    macs = args.rows * args.cols
    line = {
        "board": args.board,
        "device": args.device,
        "rows": args.rows,
        "cols": args.cols,
        "macs_per_cycle": macs,
        "clock_mhz": round(clock_mhz, 3),
        "fmax_mhz_min": min(fmax),
        "fmax_mhz_median": round(statistics.median(fmax), 2),
        "fmax_mhz_seeds": fmax,
        "seeds": [seed_of(p) for p in args.reports],
        "timing_met": min(fmax) >= clock_mhz,
        "luts": luts,
        "luts_total": luts_total,
        "dsps": dsps,
        "dsps_total": dsps_total,
        "brams": brams,
        "brams_total": brams_total,
        "baud": args.baud,
        "peak_gmacs": round(macs * clock_mhz / 1000, 3),
    }
    if spram_c:
        line["sprams"] = sprams
        line["sprams_total"] = sprams_total
    if args.dir:
        synth = read_int(os.path.join(args.dir, "synth.seconds"))
        pnr = [read_int(os.path.join(args.dir, f"seed{seed_of(p)}.seconds")) for p in args.reports]
        if synth is not None:
            line["synth_s"] = synth
        if all(x is not None for x in pnr):
            line["pnr_s"] = pnr
    print(json.dumps(line))


def cmd_table(args):
    rows = []
    for path in args.files:
        with open(path) as f:
            rows += [json.loads(l) for l in f if l.strip()]
    hdr = ["board", "device", "array", "MAC/cyc", "clock", "Fmax min/med", "met",
           "LUT4", "DSP", "BRAM", "GMAC/s"]
    out = [hdr]
    for r in rows:
        ram = f"{r['brams']}/{r['brams_total']}"
        if r.get("sprams_total"):
            ram += f" +{r['sprams']}/{r['sprams_total']} SPRAM"
        out.append([
            r["board"], r["device"], f"{r['rows']}x{r['cols']}", str(r["macs_per_cycle"]),
            f"{r['clock_mhz']:g} MHz", f"{r['fmax_mhz_min']:.1f}/{r['fmax_mhz_median']:.1f}",
            "yes" if r["timing_met"] else "NO",
            f"{r['luts']}/{r['luts_total']}", f"{r['dsps']}/{r['dsps_total']}", ram,
            f"{r['peak_gmacs']:.3f}",
        ])
    w = [max(len(row[i]) for row in out) for i in range(len(hdr))]
    for n, row in enumerate(out):
        print("  ".join(c.ljust(w[i]) for i, c in enumerate(row)).rstrip())
        if n == 0:
            print("  ".join("-" * x for x in w))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("best")
    b.add_argument("reports", nargs="+")
    l = sub.add_parser("line")
    for a in ("--board", "--device", "--family"):
        l.add_argument(a, required=True)
    for a in ("--rows", "--cols", "--clock-hz", "--baud"):
        l.add_argument(a, type=int, required=True)
    l.add_argument("--dir")
    l.add_argument("reports", nargs="+")
    t = sub.add_parser("table")
    t.add_argument("files", nargs="+")
    args = ap.parse_args()
    {"best": cmd_best, "line": cmd_line, "table": cmd_table}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
