"""Tables from measure.py's rows: per pose, the measured angle, the y_r bias, and per expression and
condition the FER classifier's P(target) / top-1 share and the edit's 3-D size.

    .venv/bin/python examples/pose/summarise.py /tmp/pose/rows.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

import numpy as np

AUS = ("AU01", "AU02", "AU04", "AU05", "AU06", "AU12", "AU15", "AU25", "AU26", "AU45")
CONDS = ("base", "yrF", "zero", "iod3", "yrF+iod3", "ref")


def mean(xs):
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else float("nan")


def main(path: str) -> None:
    rows = [json.loads(ln) for ln in open(path)]
    poses = sorted({(r["pitch"], r["yaw"]) for r in rows}, key=lambda p: (p[1] != 0, p[1], p[0]))
    by = defaultdict(list)
    for r in rows:
        by[(r["pitch"], r["yaw"])].append(r)
    people = sorted({r["id"] for r in rows})
    print(f"{len(people)} people: {' '.join(people)}\n")
    print("## pose: asked vs measured (re-detected, minus the photo's own), scale, mouth gap")
    print("| asked p/y | meas. pitch | meas. yaw | found | haar | IOD2/IOD3 | gap2 in | gap3 in |")
    print("|---|---|---|---|---|---|---|---|")
    for p in poses:
        one = [r for r in by[p] if r.get("expr", "happy") == "happy" and r.get("cond", "base")
               == "base"]
        ok = [r for r in one if r["detected"]]
        print(f"| {p[0]:+d}/{p[1]:+d} | {mean([r['m_pitch'] for r in ok]):+.1f} "
              f"(sd {np.std([r['m_pitch'] for r in ok]):.1f}) | "
              f"{mean([r['m_yaw'] for r in ok]):+.1f} (sd {np.std([r['m_yaw'] for r in ok]):.1f}) "
              f"| {len(ok)}/{len(one)} | {sum(r['haar'] for r in ok)} | "
              f"{mean([r['iod2'] / r['iod3'] for r in ok]):.3f} | "
              f"{mean([r['gap2_in'] for r in ok]):.4f} | {mean([r['gap3_in'] for r in ok]):.4f} |")
    print("\n## y_r on the posed neutral face minus y_r at the frontal photo "
          "(mean; max over people)")
    print("| asked p/y | " + " | ".join(AUS) + " |")
    print("|---|" + "---|" * len(AUS))
    for p in poses:
        ok = [r for r in by[p] if r["detected"] and r["expr"] == "happy" and r["cond"] == "base"]
        cells = []
        for a in AUS:
            d = [r["y_r"][a] - r["y_r0"][a] for r in ok]
            cells.append(f"{np.mean(d):+.2f} ({np.max(d):+.2f})")
        print(f"| {p[0]:+d}/{p[1]:+d} | " + " | ".join(cells) + " |")
    for e in ("happy", "surprise"):
        print(f"\n## {e}: P({e}) mean / top-1 {e} share, per condition (input: P / top-1)")
        print("| asked p/y | input | " + " | ".join(CONDS) + " |")
        print("|---|---|" + "---|" * len(CONDS))
        for p in poses:
            rs = [r for r in by[p] if r["detected"] and r["expr"] == e and "p" in r]
            base = [r for r in rs if r["cond"] == "base"]
            cells = [f"{mean([r['p_in'] for r in base]):.2f} / "
                     f"{sum(r['top_in'] == e for r in base)}/{len(base)}"]
            for c in CONDS:
                cr = [r for r in rs if r["cond"] == c]
                cells.append(f"{mean([r['p'] for r in cr]):.2f} / {sum(r['top'] == e for r in cr)}"
                             f"/{len(cr)}")
            print(f"| {p[0]:+d}/{p[1]:+d} | " + " | ".join(cells) + " |")
        key = "d_corner_y" if e == "happy" else "d_brow_y"
        what = "lip-corner rise" if e == "happy" else "brow raise"
        print(f"\n## {e}: 3-D {what} (re-detected edit, frontalised; IOD), planned 3-D rise, "
              "2-D rise / 2-D IOD, lip part 2-D / planned 3-D, painted share")
        print("| asked p/y | " + " | ".join(f"{c} {what}" for c in CONDS)
              + " | base plan3 rise | base 2-D rise | base part2 | base part3 plan | "
              "base gap3 change | painted base/iod3 |")
        print("|---|" + "---|" * (len(CONDS) + 6))
        for p in poses:
            rs = [r for r in by[p] if r["detected"] and r["expr"] == e]
            cells = [f"{mean([r.get(key) for r in rs if r['cond'] == c]):+.3f}" for c in CONDS]
            b = [r for r in rs if r["cond"] == "base"]
            i3 = [r for r in rs if r["cond"] == "iod3"]
            cells += [f"{mean([r['rise3_plan'] for r in b]):+.3f}",
                      f"{mean([r['rise2'] for r in b]):+.3f}",
                      f"{mean([r['part2'] for r in b]):+.3f}",
                      f"{mean([r['part3_plan'] for r in b]):+.3f}",
                      f"{mean([r.get('d_gap3') for r in b]):+.3f}",
                      f"{sum(r['painted'] for r in b)}/{sum(r['painted'] for r in i3)} of {len(b)}"]
            print(f"| {p[0]:+d}/{p[1]:+d} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/pose/rows.jsonl")
