"""Photos per second of `ganimate edit image` on a folder, per engine, after start-up.

    .venv/bin/python benchmarks/edit_throughput.py [--engine warp] [--engine gan] [--json]

Edits the 26 held-out London neutral photos (512x512, examples/demo_model/holdout.txt; with
``--photos N`` the other London photos after them, up to N) to a smile (AU06=0.8 AU12=0.9) and
writes them as PNG, with the same calls as the CLI (``editing.edit_photo`` +
``write_photo_edit``, one FaceMesh for the folder). Start-up (imports,
mediapipe, the model) is reported apart; the rate is (photos - 1) / time from the first photo
written to the last. ``gan`` is the model shipped with ganimate (or ``--checkpoint``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LONDON = ROOT / "tests" / "data" / "faces" / "london" / "neutral"  # shipped (CC BY 4.0)
SMILE = ("AU06=0.8", "AU12=0.9")


def holdout(count: int | None = None) -> list[Path]:
    """The held-out London photos, then (``count`` > 26) the other London photos in order."""
    lines = (ROOT / "examples" / "demo_model" / "holdout.txt").read_text().splitlines()
    held = [LONDON / f"{s.strip()}.jpg" for s in lines if s.strip() and not s.startswith("#")]
    if count is None:
        return held
    rest = [p for p in sorted(LONDON.glob("*.jpg")) if p not in held]
    return (held + rest)[:count]


def measure(engine_name: str, checkpoint: str | None, photos: list[Path]) -> dict:
    started = time.perf_counter()
    from ganimate.editing import EditConfig, edit_photo, write_photo_edit
    from ganimate.engines import load_engine
    from ganimate.faces import FaceMesh
    from ganimate.targets import target_spec

    engine = load_engine(engine_name, checkpoint if engine_name == "gan" else None, "cpu")
    config = EditConfig(spec=target_spec(au=SMILE, au_names=engine.au_names))
    times = []
    with tempfile.TemporaryDirectory() as tmp, FaceMesh() as mesh:
        for photo in photos:
            edit = edit_photo(photo, config, engine, mesh)
            write_photo_edit(edit, Path(tmp) / f"{photo.stem}.png")
            times.append(time.perf_counter())
    rate = (len(times) - 1) / (times[-1] - times[0])
    return {"engine": engine_name, "photos": len(photos), "startup_s": round(times[0] - started, 2),
            "photos_per_s": round(rate, 2), "ms_per_photo": round(1000 / rate, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=("warp", "gan"))
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--photos", type=int, default=None,
                        help="this many photos (default: the 26 held-out ones; issue 21: 39)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    photos = holdout(args.photos)
    rows = [measure(e, args.checkpoint, photos) for e in (args.engine or ["warp", "gan"])]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        return
    print("| engine | photos | start-up (s) | photos/s after start-up | ms a photo |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['engine']} | {r['photos']} | {r['startup_s']} | {r['photos_per_s']} | "
              f"{r['ms_per_photo']} |")


if __name__ == "__main__":
    main()
