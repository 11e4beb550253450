#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""pnr_density.py - where a placed design will be hard to route.

Reads the JSON that `nextpnr-ecp5 ... --no-route --write placed.json` writes
(every cell carries its NEXTPNR_BEL location), spreads each net over the tiles
of its bounding box with weight (w + h) / (w * h) - a RUDY-style estimate of
the wire demand per tile - and prints the densest tiles, the average, and the
nets (bits grouped by name) that cross the densest tile, heaviest first.
A figure for finding routing hot spots, not a test.

usage: mk/pnr_density.py placed.json [N]     (N nets listed, default 25)
"""
import collections
import json
import re
import sys


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ('-h', '--help'):
        print(__doc__.strip())
        return 0 if len(sys.argv) >= 2 else 2
    top_n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    with open(sys.argv[1]) as f:
        design = json.load(f)
    mods = [m for m in design['modules'].values()
            if any(c.get('attributes', {}).get('NEXTPNR_BEL') for c in m['cells'].values())]
    if not mods:
        print('pnr_density: no placed cells (run nextpnr with --no-route --write)',
              file=sys.stderr)
        return 1
    mod = mods[0]
    loc = {}
    for name, cell in mod['cells'].items():
        m = re.match(r'X(\d+)/Y(\d+)/', cell.get('attributes', {}).get('NEXTPNR_BEL', ''))
        if m:
            loc[name] = (int(m.group(1)), int(m.group(2)))
    pins = collections.defaultdict(set)
    for name, cell in mod['cells'].items():
        if name in loc:
            for bits in cell['connections'].values():
                for b in bits:
                    if isinstance(b, int):
                        pins[b].add(loc[name])
    net_name = {}
    for name, net in mod['netnames'].items():
        for b in net['bits']:
            if isinstance(b, int) and (b not in net_name or len(name) < len(net_name[b])):
                net_name[b] = name
    demand = collections.Counter()
    boxes = []
    for b, pts in pins.items():
        if len(pts) < 2 or len(pts) > 2000:  # (the clock is a global)
            continue
        xs = [p[0] for p in pts]
        ys = [p[1] for p in pts]
        box = (min(xs), max(xs), min(ys), max(ys))
        w, h = box[1] - box[0] + 1, box[3] - box[2] + 1
        for x in range(box[0], box[1] + 1):
            for y in range(box[2], box[3] + 1):
                demand[(x, y)] += (w + h) / (w * h)
        boxes.append((box, b))
    hot = demand.most_common(10)
    print('densest tiles (x, y): demand')
    for (x, y), v in hot:
        print(f'  ({x}, {y}): {v:.1f}')
    print(f'average over {len(demand)} tiles: {sum(demand.values()) / len(demand):.1f}')
    hx, hy = hot[0][0]
    by_name = collections.Counter()
    for (x0, x1, y0, y1), b in boxes:
        if x0 <= hx <= x1 and y0 <= hy <= y1:
            w, h = x1 - x0 + 1, y1 - y0 + 1
            n = re.sub(r'\[\d+\]$', '', net_name.get(b, '?'))
            n = re.sub(r'_(TRELLIS|LUT4|CCU2|PFUMX|L6MUX|DP16KD|MULT18).*', '', n)
            n = re.sub(r'g_row\[\d+\]\.g_col\[\d+\]', '*', n)
            by_name[n] += (w + h) / (w * h)
    print(f'nets crossing ({hx}, {hy}), by demand there:')
    for n, v in by_name.most_common(top_n):
        print(f'  {v:6.1f}  {n}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
