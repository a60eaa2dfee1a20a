"""Turn a trained generator into a shipped model:
ganimate/model/weights/<NAME>.generator.safetensors.

    .venv/bin/python examples/demo_model/package_model.py EXPORT_OR_CHECKPOINT DATASET \
        --name NAME [--standin] [--licence TEXT] [--device-note TEXT] [--remove-others]

Adds to the export's metadata what `edit`/`animate` and the model card need (see
ganimate/model/bundled.py): ``name``, ``standin``, the dataset's ``au_calibration`` (source AUs
of new faces must be mapped onto the scale of the training labels), ``licence`` and a
``training`` summary (dataset size and hash, steps, device). The weights are stored in fp16.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MODELS = ROOT / "ganimate" / "models"

LICENCES = {
    "london": "CC BY 4.0 training data (Face Research Lab London Set); model weights: MIT like "
              "the code, with attribution of the data",
    "utkface": "NON-COMMERCIAL RESEARCH AND DEMONSTRATION ONLY: trained on UTKFace (non-commercial "
               "research licence) and the London set (CC BY 4.0)",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="generator export, training checkpoint or run folder")
    ap.add_argument("dataset", help="the prepared dataset it was trained on (meta.json)")
    ap.add_argument("--name", required=True, help="model name = file stem")
    ap.add_argument("--standin", action="store_true", help="mark as a CPU stand-in")
    ap.add_argument("--data", choices=sorted(LICENCES), required=True,
                    help="london: London only; utkface: UTKFace + London")
    ap.add_argument("--device-note", default="", help="where/how long it trained")
    ap.add_argument("--remove-others", action="store_true",
                    help="delete other *.generator.safetensors in ganimate/model/weights")
    args = ap.parse_args(argv)

    import torch

    from ganimate.model import resolve_checkpoint, save_checkpoint
    from ganimate.model.checkpoint import load_checkpoint

    ckpt = load_checkpoint(resolve_checkpoint(args.source))  # a run folder: its newest
    meta_path = Path(args.dataset) / "meta.json"
    data_meta = json.loads(meta_path.read_text())
    ids = (Path(args.dataset) / "train.txt").read_text().split()
    # the EMA of G when the run kept one (what inference should use), else G
    weights = {f"G.{k}": (v.to(torch.float16) if v.is_floating_point() else v)
               for k, v in ckpt.generator_weights().items()}
    keep = ("model", "au_names", "step", "data_fingerprint", "train")
    meta = {k: ckpt.metadata[k] for k in keep if k in ckpt.metadata}
    train = meta.pop("train", None) or {}
    meta.update(
        kind="generator", dtype="float16", name=args.name, standin=bool(args.standin),
        au_calibration=data_meta.get("au_calibration"),
        licence=LICENCES[args.data],
        training={
            "dataset_count": data_meta.get("count"), "train_crops": len(ids),
            "dataset_size": data_meta.get("size"), "estimator": data_meta.get("estimator"),
            "train_ids_sha1": hashlib.sha1("\n".join(ids).encode()).hexdigest()[:12],
            "steps": ckpt.metadata.get("step"), "batch_size": train.get("batch_size"),
            "n_critic": train.get("n_critic"), "device": args.device_note,
            "recipe": {k: train.get(k) for k in ("lr_g", "lr_d", "lambda_au", "lambda_cyc",
                                                 "lambda_idt", "ema", "precision")},
            # London identities never trained on (examples/demo_model/holdout.txt)
            "holdout": [s.strip() for s in (HERE / "holdout.txt").read_text().splitlines()
                        if s.strip() and not s.startswith("#")],
        },
    )
    out = MODELS / f"{args.name}.generator.safetensors"
    if args.remove_others:
        for other in MODELS.glob("*.generator.safetensors"):
            if other != out:
                other.unlink()
    save_checkpoint(out, weights, meta)
    print(f"{out}: {out.stat().st_size / 1024:.0f} KiB, step {meta.get('step')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
