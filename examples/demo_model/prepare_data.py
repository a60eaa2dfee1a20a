"""Build the demo model's training set with ganimate's prepare (on the CPU machine: the GPU
machine has no mediapipe). The London identities in holdout.txt are never given to prepare.

    .venv/bin/python examples/demo_model/prepare_data.py [--out carry/demo128] [--size 128]
                                                         [--london-only]

- all (default): London minus the holdout (CC BY) + UTKFace crop_part1 (non-commercial research
  only), 128 px: the training set of the real demo model, trained on a GPU machine (see README.md).
- ``--london-only --size 64``: what the CPU stand-in model is trained on (CC BY data only).

Labels come from the default ``mesh`` estimator, calibrated per dataset (docs/aus.md). Crops are
JPEG q85 (measured: 9,897 crops at 128 px take 63.4 MiB at prepare's default q95, too close to the
64 MiB we allow a training set that travels with the clone to a GPU machine; q85 takes about
half). The split is by file stem,
so a London person's neutral and smiling photos land in the same split.

Why not plain ``ganimate prepare``: UTKFace's 200 x 200 chips are cut tightly around the face, so
ganimate's canonical framing (forehead to chin plus margin) always reaches ~44% outside the chip
and the CLI's fixed 80%-inside rule rejects every one of them as "face cut off". The face itself is
whole; the missing border is filled by edge replication (align.py). We accept crops with >= 50%
inside here, through the library's ``PrepareConfig.min_inside``.

UTKFace is read from ../shared/data and never copied into the project; the prepared crops go to
carry/ (git-ignored) and must never be committed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def holdout_ids() -> list[str]:
    lines = (HERE / "holdout.txt").read_text().splitlines()
    return [s.strip() for s in lines if s.strip() and not s.startswith("#")]


def stage_london(london: Path, stage: Path) -> int:
    """Symlink London minus the holdout into ``stage``/london/{neutral,smiling}; returns the
    number of identities kept. Symlinks keep source paths readable (london/neutral/004.jpg)."""
    held = set(holdout_ids())
    kept = 0
    for kind in ("neutral", "smiling"):
        (stage / "london" / kind).mkdir(parents=True)
    for photo in sorted((london / "neutral").glob("*.jpg")):
        if photo.stem in held:
            continue
        smiling = london / "smiling" / photo.name
        if not smiling.is_file():
            continue
        os.symlink(photo, stage / "london" / "neutral" / photo.name)
        os.symlink(smiling, stage / "london" / "smiling" / photo.name)
        kept += 1
    return kept


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "carry" / "demo128"), help="dataset folder")
    ap.add_argument("--size", type=int, default=128, help="crop side [128]")
    ap.add_argument("--london-only", action="store_true", help="no UTKFace (the CPU stand-in)")
    ap.add_argument("--shared", default=os.environ.get("GANIMATE_SHARED",
                                                       str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--workers", type=int, default=0, help="0: one per core")
    ap.add_argument("--quality", type=int, default=85, help="JPEG quality [85]")
    args = ap.parse_args(argv)

    from ganimate.training import PrepareConfig
    from ganimate.training.prepare import prepare_dataset

    shared = Path(args.shared)
    london = shared / "faces" / "london"
    utk = shared / "research" / "utkface"
    if not (london / "neutral").is_dir():
        print(f"error: {london}: London set not found (pass --shared)", file=sys.stderr)
        return 1
    config = PrepareConfig(size=args.size, workers=args.workers, image_format="jpg",
                           quality=args.quality, estimator="mesh", calibrate=True, split_by="stem",
                           min_inside=0.5)
    stage = Path(tempfile.mkdtemp(prefix="ganimate-demo-stage-"))
    try:
        kept = stage_london(london, stage)
        print(f"London: {kept} identities for training, {len(holdout_ids())} held out",
              file=sys.stderr)
        sources = [stage / "london"]
        if not args.london_only:
            if not utk.is_dir():
                print(f"error: {utk}: UTKFace not found", file=sys.stderr)
                return 1
            sources.append(utk)
        report = prepare_dataset(sources, args.out, config)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    rejected = ", ".join(f"{n} {r}" for r, n in sorted(report.rejected.items())) or "none"
    size = sum(p.stat().st_size for p in Path(args.out).rglob("*") if p.is_file())
    print(f"{report.out}: {report.count} crops ({report.train} train, {report.test} test), "
          f"{report.seconds:.0f} s, rejected: {rejected}; {size / 2**20:.1f} MiB on disk",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
