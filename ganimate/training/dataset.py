"""Reading training data: ganimate's dataset format and GANimation's original layout.

See ``docs/dataset-format.md`` for both layouts. :func:`open_dataset` detects which one a folder
holds and returns a :class:`FaceDataset`: ids, image paths and float32 AU vectors in [0, 1] (columns
named by ``au_names``). Images are decoded on demand (:meth:`FaceDataset.read`), by worker
processes through :class:`DecodedImages`, or all at once into memory with :func:`decode_all`.

This module never imports mediapipe or cv2: it must run on a bare GPU node.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.errors import GanimateError
from ganimate.faces import AU_NAMES, read_csv_rows

# Imported in the functions that use them, on purpose (start-up): PIL (where files are decoded).

log = logging.getLogger("ganimate")


DATASET_FORMAT = "ganimate-dataset"
DATASET_VERSION = 1
SPLITS = ("train", "test", "all")


@dataclass
class FaceDataset:
    """One split of a dataset: aligned face crops and their AU intensities."""

    root: Path
    ids: list[str]
    image_paths: list[Path]
    aus: np.ndarray  # float32 (N, K) in [0, 1]
    au_names: tuple[str, ...]
    size: int | None  # side of the stored crops (None: not declared)
    layout: str  # "ganimate" or "ganimation"
    split: str
    # How raw estimator readings were mapped to these labels (meta.json "au_calibration"); models
    # carry it so that the source AUs of new faces are read on the scale they were trained on.
    au_calibration: dict | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def read(self, index: int, size: int | None = None) -> np.ndarray:
        """Decode crop ``index`` to uint8 HxWx3, resized to ``size`` x ``size`` if given."""
        return _decode(self.image_paths[index], size)

    def fingerprint(self) -> str:
        """A short hash of what training depends on: ids, AU names and AU values."""
        h = hashlib.sha256()
        h.update(json.dumps([list(self.au_names), self.split, self.ids]).encode())
        h.update(np.ascontiguousarray(self.aus, dtype="<f4").tobytes())
        return h.hexdigest()[:16]


def _decode(path: Path, size: int | None) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if im.width != im.height:
                raise GanimateError(
                    f"{path}: crops must be square, got {im.width}x{im.height}; "
                    "re-create the dataset with `ganimate prepare`"
                )
            if size is not None and im.width != size:
                im = im.resize((size, size), Image.BILINEAR)
            return np.asarray(im, dtype=np.uint8).copy()
    except FileNotFoundError:
        raise GanimateError(f"{path}: image listed in the dataset is missing") from None
    except OSError as exc:
        raise GanimateError(f"{path}: cannot decode image ({exc})") from None


# --- ganimate format ------------------------------------------------------------------------------


def _read_ids(path: Path) -> list[str]:
    if not path.is_file():
        raise GanimateError(f"{path}: split file missing; a dataset needs train.txt and test.txt")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def _open_ganimate(root: Path, split: str) -> FaceDataset:
    try:
        meta = json.loads((root / "meta.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise GanimateError(f"{root / 'meta.json'}: unreadable dataset metadata ({exc})") from None
    if meta.get("format") != DATASET_FORMAT:
        raise GanimateError(f"{root / 'meta.json'}: format is {meta.get('format')!r}, "
                            f"expected {DATASET_FORMAT!r}")
    if int(meta.get("version", 0)) > DATASET_VERSION:
        raise GanimateError(f"{root}: dataset version {meta['version']} is newer than this "
                            "ganimate understands; upgrade ganimate")
    au_names = tuple(meta.get("au_names") or AU_NAMES)
    ext = meta.get("image_ext", "jpg")
    csv_path = root / "aus.csv"
    rows = _read_aus_csv(csv_path, au_names)
    if split == "all":
        ids = list(rows)
    else:
        ids = _read_ids(root / f"{split}.txt")
        unknown = [i for i in ids if i not in rows]
        if unknown:
            raise GanimateError(f"{root / (split + '.txt')}: ids without AUs in aus.csv, "
                                f"e.g. {unknown[0]!r} ({len(unknown)} in all)")
    aus = np.stack([rows[i] for i in ids]) if ids else np.zeros((0, len(au_names)), np.float32)
    if aus.size and (aus.min() < 0 or aus.max() > 1 or not np.isfinite(aus).all()):
        raise GanimateError(f"{csv_path}: AU values must lie in [0, 1] (FACS 0-5 divided by 5)")
    paths = [root / "images" / f"{i}.{ext}" for i in ids]
    return FaceDataset(root, ids, paths, aus, au_names, meta.get("size"), "ganimate", split,
                       meta.get("au_calibration"))


def _read_aus_csv(csv_path: Path, au_names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """id -> AU vector (``au_names`` order) of a dataset's aus.csv."""
    if not csv_path.is_file():
        raise GanimateError(f"{csv_path}: missing; a ganimate dataset needs aus.csv")
    header, table = read_csv_rows(csv_path)
    if not header or header[0] != "id":
        raise GanimateError(f"{csv_path}: the first column must be 'id'")
    missing = [n for n in au_names if n not in header]
    if missing:
        raise GanimateError(f"{csv_path}: AU columns {missing} named in meta.json are missing")
    rows: dict[str, np.ndarray] = {}
    for line_no, row in enumerate(table, start=2):
        try:
            rows[row["id"]] = np.array([float(row[n]) for n in au_names], dtype=np.float32)
        except ValueError:
            raise GanimateError(f"{csv_path}:{line_no}: malformed row") from None
    return rows


# --- the original GANimation layout -------------------------------------------------------------


@dataclass
class OriginalLayout:
    ids: list[str]  # image basenames without extension, sorted
    image_paths: list[Path]
    aus: np.ndarray  # float32 (N, 17) in [0, 1]: the pickle's 0-5 values / 5, AU_NAMES order
    train_ids: list[str]
    test_ids: list[str]


# The only globals a pickle of {str: numpy float array} needs (numpy 1.x and 2.x module paths).
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        if name == "_reconstruct":
            try:
                from numpy._core.multiarray import _reconstruct
            except ImportError:
                from numpy.core.multiarray import _reconstruct
            return _reconstruct
        return getattr(np, name)


def _load_aus_pickle(path: Path) -> dict[str, np.ndarray]:
    try:
        data = _RestrictedUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
    except OSError as exc:
        raise GanimateError(f"{path}: cannot read ({exc})") from None
    except Exception as exc:  # any unpickling failure: the file is not what the layout promises
        raise GanimateError(f"{path}: not a GANimation AU pickle ({exc})") from None
    if not isinstance(data, dict):
        raise GanimateError(f"{path}: expected a dict of image name -> 17 AU values")
    out = {}
    for key, value in data.items():
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        if not isinstance(key, str) or arr.shape != (len(AU_NAMES),):
            raise GanimateError(f"{path}: entry {key!r} is not a vector of {len(AU_NAMES)} AUs")
        out[os.path.splitext(key)[0]] = arr
    return out


def _read_original_ids(path: Path) -> list[str]:
    if not path.is_file():
        raise GanimateError(f"{path}: missing; the GANimation layout needs train_ids.csv and "
                            "test_ids.csv")
    ids = []
    for line in path.read_text().splitlines():
        name = line.strip().split(",")[0].strip()
        if name:
            ids.append(os.path.splitext(name)[0])
    return ids


def load_original_layout(path: str | os.PathLike) -> OriginalLayout:
    """Read GANimation's own dataset layout (imgs/, aus_openface.pkl, train/test_ids.csv).

    The AU pickle (Python 2, 0-5 intensities) is read with a restricted unpickler that admits only
    numpy arrays. Ids listed in the split files without AUs or without an image are skipped (the
    original code does the same) and counted in a warning.
    """
    root = Path(path)
    table = _load_aus_pickle(root / "aus_openface.pkl")
    image_dir = root / "imgs"
    if not image_dir.is_dir():
        raise GanimateError(f"{image_dir}: missing; the GANimation layout keeps its crops in imgs/")
    files = {p.stem: p for p in image_dir.iterdir() if p.is_file()}
    ids = sorted(i for i in table if i in files)
    known = set(ids)
    train = _read_original_ids(root / "train_ids.csv")
    test = _read_original_ids(root / "test_ids.csv")
    dropped = sum(i not in known for i in train + test)
    if dropped:
        log.warning("%s: %d split ids have no AUs or no image and are skipped", root, dropped)
    aus = np.stack([table[i] for i in ids]).astype(np.float32) / 5.0 if ids else \
        np.zeros((0, len(AU_NAMES)), np.float32)
    return OriginalLayout(ids, [files[i] for i in ids], np.clip(aus, 0.0, 1.0),
                          [i for i in train if i in known], [i for i in test if i in known])


def _open_original(root: Path, split: str) -> FaceDataset:
    layout = load_original_layout(root)
    index = {i: n for n, i in enumerate(layout.ids)}
    ids = {"train": layout.train_ids, "test": layout.test_ids, "all": layout.ids}[split]
    rows = [index[i] for i in ids]
    aus = layout.aus[rows] if rows else np.zeros((0, len(AU_NAMES)), np.float32)
    return FaceDataset(root, list(ids), [layout.image_paths[r] for r in rows], aus, AU_NAMES,
                       128, "ganimation", split)


def open_dataset(path: str | os.PathLike, split: str = "train") -> FaceDataset:
    """Open a ganimate dataset or an original GANimation layout (detected from its files)."""
    root = Path(path)
    if split not in SPLITS:
        raise GanimateError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    if not root.is_dir():
        raise GanimateError(f"{root}: no such dataset folder")
    if (root / "meta.json").is_file():
        return _open_ganimate(root, split)
    if (root / "aus_openface.pkl").is_file():
        return _open_original(root, split)
    raise GanimateError(
        f"{root}: not a dataset; expected meta.json + aus.csv (ganimate format, written by "
        "`ganimate prepare` or `ganimate synthetic`) or imgs/ + aus_openface.pkl "
        "(GANimation layout)"
    )


# --- decoding for training ------------------------------------------------------------------------


class DecodedImages:
    """Index -> uint8 HxWx3 crop at ``size``: all a DataLoader worker does (no randomness)."""

    def __init__(self, dataset: FaceDataset, size: int):
        self.paths = list(dataset.image_paths)
        self.size = size

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> np.ndarray:
        return _decode(self.paths[index], self.size)


def stack_batch(arrays: list[np.ndarray]) -> np.ndarray:
    """DataLoader collate function: a list of HxWx3 crops -> one uint8 NHWC batch."""
    return np.stack(arrays)


def decode_all(dataset: FaceDataset, size: int, threads: int | None = None) -> np.ndarray:
    """Decode every crop once into one uint8 (N, size, size, 3) array (PIL releases the GIL)."""
    out = np.empty((len(dataset), size, size, 3), dtype=np.uint8)

    def one(i: int) -> None:
        out[i] = dataset.read(i, size)

    with ThreadPoolExecutor(max_workers=threads or min(8, os.cpu_count() or 1)) as pool:
        list(pool.map(one, range(len(dataset))))
    return out
