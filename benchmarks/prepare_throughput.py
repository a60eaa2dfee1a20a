"""Throughput of `ganimate prepare` on the London set: photos/s and ms per stage.

    .venv/bin/python benchmarks/prepare_throughput.py [--workers N] [--size 128] [SRC]

Runs ``prepare_dataset`` into a fresh temporary folder (so nothing is skipped) and prints the
wall-clock photos/s of the whole run (worker start-up included) and the mean per-photo time of
each stage (decode, mesh, align, aus, write), summed over the workers' processes. Also times the
single-process stages without the pool, which is the per-photo cost on one core.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from ganimate.training import PrepareConfig
from ganimate.training.prepare import prepare_dataset

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", nargs="?", default=str(ROOT / "tests/data/faces/london"))
    parser.add_argument("--workers", type=int, default=0, help="0: one per core")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = {"cpus": os.cpu_count(), "size": args.size}
    for label, workers in (("pool", args.workers), ("one process", 1)):
        with tempfile.TemporaryDirectory() as tmp:
            report = prepare_dataset([args.src], Path(tmp) / "ds",
                                     PrepareConfig(size=args.size, workers=workers))
        results[label] = {
            "workers": workers or min(8, os.cpu_count() or 1),
            "photos": report.frames,
            "crops": report.count,
            "seconds": round(report.seconds, 2),
            "photos_per_s": round(report.frames / report.seconds, 1),
            "stage_ms": {k: round(v, 2) for k, v in report.stage_ms.items()},
        }
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for label in ("pool", "one process"):
        r = results[label]
        stages = ", ".join(f"{k} {v:.1f}" for k, v in r["stage_ms"].items())
        print(f"{label:12s} workers={r['workers']}: {r['photos']} photos in {r['seconds']:.1f} s "
              f"= {r['photos_per_s']:.1f} photos/s; ms per photo: {stages}")


if __name__ == "__main__":
    main()
