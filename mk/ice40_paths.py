#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Rough register-to-register path estimate for a Yosys iCE40 netlist.

A quick look before place and route (which takes 15-20 minutes for the
iCEBreaker): every LUT4 costs LUT_NS plus ROUTE_NS to reach it, a carry step
CARRY_NS, a flip-flop, RAM, DSP or input starts at CLK_Q_NS. The numbers are
typical of nextpnr-ice40's UP5K reports of this design; routing at high
utilisation is worse (the iCEBreaker's real critical path was about 1.3x this
estimate), so this ranks paths and counts long ones, it does not give Fmax.

  python3 mk/ice40_paths.py build/icebreaker/synth.json [--top qa_icebreaker]
      [--limit-ns 20.8] [--rows 30] [--path REGEX] [--slow REGEX]

Prints how many endpoints (flip-flop, RAM and DSP inputs) are estimated over
the limit, the worst groups (start register -> end register), and with --path
the chain of the worst endpoint whose cell.port matches REGEX. --slow REGEX
asks what a half-rate second clock would leave: a path whose start register
and end cell both match it is allowed twice the limit (a path between the two
domains keeps the limit: with both clocks from one PLL, edge-aligned, it has
one fast period).
"""
import argparse
import collections
import json
import re
import sys

CLK_Q_NS, LUT_NS, ROUTE_NS, CARRY_NS, CARRY_IN_NS, SETUP_NS = 1.4, 0.9, 2.0, 0.28, 0.4, 0.1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("netlist")
    ap.add_argument("--top", default="qa_icebreaker")
    ap.add_argument("--limit-ns", type=float, default=20.8)
    ap.add_argument("--rows", type=int, default=30)
    ap.add_argument("--path")
    ap.add_argument("--slow")
    a = ap.parse_args()

    mod = json.load(open(a.netlist))["modules"][a.top]
    cells = mod["cells"]
    name = {}
    for nn, n in mod["netnames"].items():
        for b in n["bits"]:
            if b not in name or (nn[0] != "$" and (name[b][0] == "$" or len(nn) < len(name[b]))):
                name[b] = nn
    drv = {}
    for cn, c in cells.items():
        for p, d in c["port_directions"].items():
            if d == "output":
                for b in c["connections"][p]:
                    if isinstance(b, int):
                        drv[b] = cn

    arrival, pred = {}, {}

    def bits(c, port):
        return [b for b in c["connections"].get(port, []) if isinstance(b, int)]

    # iterative depth-first evaluation (the netlists are too deep for recursion)
    def arr(b0):
        stack = [b0]
        while stack:
            b = stack[-1]
            if b in arrival:
                stack.pop()
                continue
            c = cells.get(drv.get(b))
            if c is None or c["type"] not in ("SB_LUT4", "SB_CARRY"):
                arrival[b], pred[b] = (CLK_Q_NS if c is not None else 0.0), None
                stack.pop()
                continue
            if c["type"] == "SB_LUT4":
                ins = [(ib, 0.0 if (p == "I3" and cells.get(drv.get(ib), {}).get("type") == "SB_CARRY")
                        else ROUTE_NS, LUT_NS) for p in ("I0", "I1", "I2", "I3") for ib in bits(c, p)]
            else:
                ins = [(ib, 0.0, CARRY_NS) for ib in bits(c, "CI")] + \
                      [(ib, ROUTE_NS, CARRY_IN_NS) for p in ("I0", "I1") for ib in bits(c, p)]
            pending = [ib for ib, _, _ in ins if ib not in arrival]
            if pending:
                stack.extend(pending)
                continue
            best, bp = 0.0, None
            for ib, r, d in ins:
                if arrival[ib] + r + d > best:
                    best, bp = arrival[ib] + r + d, ib
            arrival[b], pred[b] = best, bp
            stack.pop()
        return arrival[b0]

    ends = []
    for cn, c in cells.items():
        if c["type"] in ("SB_LUT4", "SB_CARRY"):
            continue
        for p, d in c["port_directions"].items():
            if d == "input":
                for b in bits(c, p):
                    ends.append((arr(b) + ROUTE_NS + SETUP_NS, cn, p, b))

    def clean(n):
        return re.sub(r"_SB_.*", "", re.sub(r"\[\d+\]$", "", n))

    def start(b):
        while pred.get(b) is not None:
            b = pred[b]
        return b

    def limit(cn, b):
        if a.slow and re.search(a.slow, cn) and re.search(a.slow, name.get(start(b), "?")):
            return 2 * a.limit_ns
        return a.limit_ns

    over = [e for e in ends if e[0] > limit(e[1], e[3])]
    # with --slow, the worst path held to the fast limit (the slow ones have twice)
    fast = [e[0] for e in ends if limit(e[1], e[3]) == a.limit_ns] or [0.0]
    print("endpoints estimated over %.1f ns%s: %d of %d; worst %.1f ns%s"
          % (a.limit_ns, " (%.1f ns for --slow)" % (2 * a.limit_ns) if a.slow else "",
             len(over), len(ends), max(e[0] for e in ends),
             "; worst at the fast limit %.1f ns" % max(fast) if a.slow else ""))
    groups = collections.defaultdict(lambda: [0, 0.0])
    for t, cn, p, b in over:
        g = groups[(clean(name.get(start(b), "?")), clean(cn) + "." + p)]
        g[0] += 1
        g[1] = max(g[1], t)
    for (s, e), (n, t) in sorted(groups.items(), key=lambda kv: -kv[1][1])[:a.rows]:
        print("%5.1f ns %4d  %s -> %s" % (t, n, s, e))
    if a.path:
        for t, cn, p, b in sorted(ends, key=lambda e: -e[0]):
            if re.search(a.path, cn + "." + p):
                print("path to %s.%s, %.1f ns:" % (cn, p, t))
                chain = []
                while b is not None:
                    c = cells.get(drv.get(b), {})
                    chain.append("  %5.1f ns  %s (%s)" % (arrival[b], clean(name.get(b, "?")),
                                                          c.get("type", "input")))
                    b = pred.get(b)
                print("\n".join(reversed(chain)))
                break
    return 0


if __name__ == "__main__":
    sys.exit(main())
