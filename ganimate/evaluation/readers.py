"""What the protocol reads edits with: AU readers (the calibrated mesh estimator, the synthetic
set's measure) and the identity embedder, built from a dataset's metadata.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ganimate.errors import GanimateError
from ganimate.evaluation.identity import FaceEmbedder, identity_unavailable
from ganimate.faces import AUCalibration, CropAUReader
from ganimate.training import SYNTHETIC_AUS, measure

log = logging.getLogger("ganimate")


def load_embedder(enabled: bool = True) -> tuple[Embedder | None, str | None]:
    """The dlib embedder, or (None, reason) when disabled or the [eval] extra is missing."""
    if not enabled:
        return None, "disabled (--no-identity)"

    reason = identity_unavailable()
    if reason is not None:
        log.warning("identity metric skipped: %s", reason)
        return None, reason
    return FaceEmbedder(), None


# ---------------------------------------------------------------------------------------------
# 3. A checkpoint on a prepared dataset
# ---------------------------------------------------------------------------------------------


class SyntheticReader:
    """The synthetic bar faces' exact measurement (``synthetic.measure``): both AUs reliable."""

    name = "synthetic bar-face measurement"

    def __init__(self) -> None:
        self.au_names = tuple(SYNTHETIC_AUS)
        self.reliable = tuple(SYNTHETIC_AUS)

    def read(self, crops: np.ndarray) -> np.ndarray:
        return measure(np.asarray(crops)).astype(np.float64)


def dataset_meta(root: str | Path) -> dict:
    """The dataset's meta.json as a dict ({} for the original GANimation layout)."""
    meta = Path(root) / "meta.json"
    if not meta.is_file():
        return {}

    try:
        return json.loads(meta.read_text())
    except (OSError, ValueError) as exc:
        raise GanimateError(f"{meta}: unreadable dataset metadata ({exc})") from None


class CalibratedReader:
    """A reader whose raw estimates are mapped through the dataset's AU calibration.

    ``ganimate prepare`` stores the map from the estimator's raw scale to its labels in meta.json
    (``au_calibration``); the same map puts readings of generated crops on the labels' scale, so
    that they compare with targets drawn from those labels.
    """

    def __init__(self, reader: AUReader, calibration) -> None:
        self.reader = reader
        self.calibration = calibration
        self.au_names = tuple(calibration.au_names)
        self.reliable = tuple(n for n in reader.reliable if n in self.au_names)
        self.name = f"{getattr(reader, 'name', type(reader).__name__)}, calibrated"
        self._columns = reader_columns(reader, self.au_names)

    def read(self, crops: np.ndarray) -> np.ndarray:
        raw = read_aus(self.reader, crops, self._columns)
        return np.where(np.isfinite(raw), self.calibration.apply(np.nan_to_num(raw)), np.nan)

    def close(self) -> None:
        if hasattr(self.reader, "close"):
            self.reader.close()


def default_reader(meta: dict) -> AUReader:
    """The AU reader for a dataset (its meta.json): exact measurement for synthetic data, else
    ganimate's estimator on the crops, through the dataset's calibration when it has one."""
    if meta.get("au_source") == "synthetic":
        return SyntheticReader()

    reader = CropAUReader()
    reader.name = "ganimate AU estimator (mesh)"
    calibration = AUCalibration.from_meta(meta)
    if calibration is None:
        if meta.get("au_source", "ganimation") != "mesh":
            log.warning("the dataset's labels come from %s, not from ganimate's estimator, and it "
                        "has no calibration: AU errors mix two scales (direction accuracy is "
                        "unaffected)", meta.get("au_source", "the original GANimation layout"))
        return reader
    return CalibratedReader(reader, calibration)


class AUReader(Protocol):
    """Reads AU intensities from aligned crops (ganimate's estimator, or synthetic's measurer)."""

    au_names: tuple[str, ...]  # the AUs it reports, in the order of its columns
    reliable: tuple[str, ...]  # the subset it is trustworthy for (scored by the protocol)

    def read(self, crops: np.ndarray) -> np.ndarray:
        """uint8 (N, H, W, 3) -> float (N, len(au_names)); NaN rows where no face is found."""
        ...


class Embedder(Protocol):
    """Face embedding used for the identity metric (identity.FaceEmbedder)."""

    def locate(self, rgb: np.ndarray): ...

    def embed(self, rgb: np.ndarray, box=None) -> np.ndarray: ...


def reader_columns(reader: AUReader, au_names: Sequence[str]) -> list[int | None]:
    cols = {name: k for k, name in enumerate(reader.au_names)}
    return [cols.get(name) for name in au_names]


def read_aus(reader: AUReader, crops: np.ndarray, columns: list[int | None]) -> np.ndarray:
    """Reader output re-ordered to the model's AU order (NaN for AUs the reader lacks)."""
    raw = np.asarray(reader.read(crops), np.float64)
    out = np.full((len(crops), len(columns)), np.nan)
    for k, c in enumerate(columns):
        if c is not None:
            out[:, k] = raw[:, c]
    return out
