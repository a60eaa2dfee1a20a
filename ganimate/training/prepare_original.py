"""GANimation's own dataset layout (imgs/, aus_openface.pkl, train/test_ids.csv): recognising it
and converting it to this package's format.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES
from ganimate.files import safe_name, write_text
from ganimate.images import read_rgb, write_image
from ganimate.training.dataset import load_original_layout
from ganimate.training.prepare_crops import UNREADABLE
from ganimate.training.prepare_output import SHOWN_REJECTIONS, PrepareReport, Rejection, csv_text
from ganimate.version import __version__

# Imported in the functions that use them, on purpose (start-up): PIL (where files are decoded).


def is_original_layout(path: str | os.PathLike) -> bool:
    p = Path(path)
    return p.is_dir() and (p / "aus_openface.pkl").is_file() and (p / "imgs").is_dir()


def convert_original_layout(src: str | os.PathLike, out: str | os.PathLike,
                            size: int | None = None, image_format: str = "jpg",
                            quality: int = 95) -> PrepareReport:
    """Convert GANimation's layout (imgs/, aus_openface.pkl, train/test_ids.csv) to ours.

    The crops are copied as they are (their framing is the original tool's, noted in meta.json as
    ``framing: original``), resized when ``size`` differs; the labels are the pickle's OpenFace
    intensities divided by 5; the split is the layout's own.
    """
    start = time.perf_counter()
    out = Path(out)
    if (out / "meta.json").is_file():
        raise GanimateError(f"{out}: already holds a dataset; choose a new --out folder")
    layout = load_original_layout(src)
    if not layout.ids:
        raise GanimateError(f"{src}: no image has AUs in aus_openface.pkl")
    (out / "images").mkdir(parents=True, exist_ok=True)
    ids, rejected, kept, crop_size = _copy_original_crops(layout, out, size, image_format,
                                                          quality)
    aus = layout.aus[kept]
    new = {o: n for o, n, _ in ids}
    train = [new[i] for i in layout.train_ids if i in new]
    test = [new[i] for i in layout.test_ids if i in new]
    write_text(out / "aus.csv", csv_text(["id", *AU_NAMES], [
        [n, *[f"{v:.4f}" for v in y]] for (_, n, _), y in zip(ids, aus, strict=True)]))
    write_text(out / "sources.csv", csv_text(["id", "source", "frame", "face"],
                                               [[n, f"imgs/{name}", 0, 0] for _, n, name in ids]))
    write_text(out / "rejected.csv", csv_text(["source", "frame", "reason", "detail"],
                                                rejected))
    write_text(out / "train.txt", "".join(f"{i}\n" for i in train))
    write_text(out / "test.txt", "".join(f"{i}\n" for i in test))
    meta = {"format": "ganimate-dataset", "version": 1, "size": crop_size,
            "image_ext": image_format, "au_names": list(AU_NAMES), "au_source": "ganimation",
            "created_by": f"ganimate {__version__}", "count": len(ids), "framing": "original",
            "converted_from": str(Path(src).resolve())}
    write_text(out / "meta.json", json.dumps(meta, indent=2) + "\n")
    report = PrepareReport(out=out, count=len(ids), train=len(train), test=len(test),
                           processed=len(layout.ids), rejected=Counter(r[2] for r in rejected),
                           first_rejected=[Rejection(*r) for r in rejected[:SHOWN_REJECTIONS]])
    report.seconds = time.perf_counter() - start
    return report


def _copy_original_crops(layout, out: Path, size: int | None, image_format: str,
                         quality: int) -> tuple[list[tuple], list[list], list[int], int | None]:
    """Copy (or resize and write) the layout's crops into out/images: (original id, new id,
    file name) per crop, rejected rows, indices kept, crop size."""
    ids, rejected, kept = [], [], []
    crop_size = size
    for i, (orig_id, path) in enumerate(zip(layout.ids, layout.image_paths, strict=True)):
        new_id = safe_name(orig_id)
        try:
            rgb = read_rgb(path)
        except GanimateError as exc:
            rejected.append([path.name, 0, UNREADABLE, str(exc).split(": ", 1)[-1][:200]])
            continue
        if crop_size is None:
            crop_size = rgb.shape[0]
        if rgb.shape[:2] != (crop_size, crop_size):
            from PIL import Image

            rgb = np.asarray(Image.fromarray(rgb).resize((crop_size, crop_size),
                                                          Image.Resampling.LANCZOS))
        dst = out / "images" / f"{new_id}.{image_format}"
        if path.suffix.lower() == f".{image_format}" and rgb.shape[0] == read_rgb(path).shape[0]:
            shutil.copyfile(path, dst)  # no re-encoding of the JPEGs as they are
        else:
            write_image(dst, rgb, quality=quality)
        ids.append((orig_id, new_id, path.name))
        kept.append(i)
    return ids, rejected, kept, crop_size
