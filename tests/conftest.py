"""Shared test fixtures: the test media (``tests/data``), research-only data beside the checkout,
tiny generators, a trained run, the CLI, a
fake face tracker and a synthetic clip; and the marker policy (``gpu`` tests skip without CUDA).

Markers (``--strict-markers``: an undeclared one is an error): ``slow`` for tests that take more
than ~20 s on a 2-core CPU (CI runs them; ``-m "not slow"`` skips them locally), ``gpu`` for tests
that need CUDA (skipped when it is absent).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT / "tests" / "data"
RESEARCH = ROOT.parent / "shared" / "data"


def pytest_collection_modifyitems(config, items):
    """Slow tests first (a stable sort: the rest keep their order): the suite runs in two workers,
    a file to each, and the one that takes the 100-s learning test starts with it while the other
    runs the rest, instead of the run ending on it alone. GPU tests are skipped without CUDA."""
    import torch

    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def media() -> Path:
    """``tests/data``: the real photos, clips and files the tests read, shipped with the project
    (licences in ``tests/data/NOTICE.md``), laid out as ``faces/london/{neutral,smiling}``,
    ``photos``, ``video`` and ``formats/openface``."""
    return MEDIA


@pytest.fixture(scope="session")
def research() -> Callable[[str], Path]:
    """``research("formats/ganimation_sample")``: a research-only folder of ``../shared/data``
    beside the checkout (never copied into the project); the test is skipped, naming the folder,
    when it is not there."""

    def find(relative: str) -> Path:
        path = RESEARCH / relative
        if not path.exists():
            pytest.skip(f"research-only data: needs {path} (not shipped with the project)")
        return path

    return find


@pytest.fixture(autouse=True)
def _quiet_progress():
    from ganimate import progress

    progress.set_enabled(False)
    yield


# --- the CLI -------------------------------------------------------------------------------------


def _invoke(*args, quiet: bool = True):
    from typer.testing import CliRunner

    from ganimate.cli import app

    argv = (["-q"] if quiet else []) + [str(a) for a in args]
    return CliRunner().invoke(app, argv, catch_exceptions=False)


@pytest.fixture(scope="session")
def invoke() -> Callable:
    """``invoke(*args, quiet=True)``: run ``ganimate ARGS`` in-process (``-q`` unless
    ``quiet=False``; arguments may be paths); returns the runner's result (``exit_code``,
    ``stdout``, ``stderr``, ``output``). Exceptions other than the CLI's own exits propagate."""
    return _invoke


# --- models --------------------------------------------------------------------------------------


def _save_generator(path: str | Path, au_names: Sequence[str] | None = None, width: int = 8,
                    image_size: int = 32, seed: int = 0, metadata: dict | None = None,
                    tweak: Callable | None = None) -> Path:
    import torch

    from ganimate.faces import AU_NAMES
    from ganimate.model import Generator, ModelConfig, save_checkpoint

    names = tuple(AU_NAMES if au_names is None else au_names)
    cfg = ModelConfig(image_size=image_size, au_names=names, g_width=width, g_residual_blocks=1,
                      d_width=width, d_layers=3 if image_size <= 32 else 4)
    torch.manual_seed(seed)
    g = Generator(cfg)
    if tweak is not None:
        tweak(g)
    meta = {"kind": "generator", "model": cfg.to_dict(), "au_names": list(names), "step": 0,
            **(metadata or {})}
    save_checkpoint(path, {f"G.{k}": v for k, v in g.state_dict().items()}, meta)
    return Path(path)


@pytest.fixture(scope="session")
def save_generator() -> Callable[..., Path]:
    """``save_generator(path, au_names=AU_NAMES, width=8, image_size=32, seed=0, metadata=None,
    tweak=None)``: a seeded, randomly initialised generator saved as an export (``tweak(G)`` may
    change its weights first). It only needs to run: these tests check plumbing, not quality."""
    return _save_generator


@pytest.fixture(scope="session")
def tiny(tmp_path_factory) -> Path:
    """A seeded 32 px generator with 4 channels on all 17 AUs, saved as a generator export."""
    return _save_generator(tmp_path_factory.mktemp("model") / "tiny.safetensors", width=4)


@dataclass(frozen=True)
class TrainedRun:
    data: Path  # a synthetic dataset of 40 bar faces (AU01, AU26), 32 px
    run: Path  # the run folder of `ganimate train` on it
    checkpoints: list[Path]  # steps 3 and 6


TINY_TRAIN = ("--image-size", "32", "--g-width", "8", "--g-blocks", "1", "--d-width", "8",
              "--d-layers", "3", "--batch-size", "4", "--workers", "0", "--device", "cpu",
              "--sample-every", "0")


@pytest.fixture(scope="session")
def tiny_train_args() -> tuple[str, ...]:
    """`ganimate train` options of a tiny 32 px model on the CPU (no loader workers, no samples)."""
    return TINY_TRAIN


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> TrainedRun:
    """`ganimate synthetic` + `ganimate train` for 6 steps (checkpoints 3 and 6): a tiny model
    that edits badly, which is fine for tests of plumbing. Shared: tests must not write into it."""
    root = tmp_path_factory.mktemp("trained")
    data, run = root / "syn", root / "run"
    res = _invoke("synthetic", data, "--count", "40", "--size", "32", "--seed", "1")
    assert res.exit_code == 0, res.output
    res = _invoke("train", data, "--out", run, *TINY_TRAIN, "--steps", "6", "--checkpoint-every",
                  "3")
    assert res.exit_code == 0, res.output
    checkpoints = sorted((run / "checkpoints").glob("*.safetensors"))
    assert [p.name for p in checkpoints] == ["step_00000003.safetensors",
                                             "step_00000006.safetensors"]
    return TrainedRun(data, run, checkpoints)


# --- video ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def synthetic_clip(tmp_path_factory) -> Path:
    """A 2 s, 10 fps, 64 x 48 test-pattern clip without audio and without a face."""
    from ganimate.video import ffmpeg_exe

    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=10",
                    "-t", "2", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


class FakeTracker:
    """Stands in for ``faces.FaceTracker`` without mediapipe: every frame holds one face (track
    id 7), mediapipe's canonical neutral face scaled to half the frame height and centred; in
    frames listed in ``smiles`` the lip corners are raised (AU12 reads high). Counts its calls."""

    smiles: frozenset[int] = frozenset()

    def __init__(self, *args, **kwargs):
        self.frames = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        pass

    def __call__(self, rgb: np.ndarray):
        from ganimate.faces import canonical_face
        from ganimate.faces.mesh import TrackedFace, box_of

        h, w = rgb.shape[:2]
        c = canonical_face()
        scale = 0.5 * h / (c[:, 1].max() - c[:, 1].min())
        pts = np.stack([w / 2 + scale * c[:, 0], h / 2 - scale * c[:, 1], -scale * c[:, 2]], 1)
        if self.frames in self.smiles:
            pts[[61, 291], 1] -= 0.6 * scale  # lip corners up by 0.6 cm
        landmarks = np.concatenate([pts, pts[:10]])  # 478 points (the irises are never read)
        self.frames += 1
        landmarks = landmarks.astype(np.float32)
        return [TrackedFace(landmarks, box_of(landmarks), 1.0, track_id=7)]


@pytest.fixture
def fake_tracker(monkeypatch) -> Iterator[type[FakeTracker]]:
    """Replace ``ganimate.faces.FaceTracker`` by :class:`FakeTracker` for one test; set
    ``fake_tracker.smiles`` to the frame numbers (calls) that smile."""
    import sys

    from ganimate import faces
    from ganimate.faces import mesh

    tracker = type("FakeTracker", (FakeTracker,), {"smiles": frozenset()})
    monkeypatch.setattr(faces, "FaceTracker", tracker)
    # and in every module of the package that imported the real one (au_table, the planner)
    for module in [m for name, m in sys.modules.items() if name.startswith("ganimate.")]:
        if getattr(module, "FaceTracker", None) is mesh.FaceTracker and module is not mesh:
            monkeypatch.setattr(module, "FaceTracker", tracker)
    yield tracker
    # a module first imported during the test bound the fake for good (the planner, when this
    # test was the first to animate): give it the real one back, or a later test in the same
    # process tracks a fake face
    for module in [m for name, m in sys.modules.items() if name.startswith("ganimate.")]:
        if getattr(module, "FaceTracker", None) is tracker:
            module.FaceTracker = mesh.FaceTracker


# --- the bad-input kit of the CLI tests ----------------------------------------------------------


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares width x height but holds one tiny (invalid) data chunk."""
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def kit(tmp_path_factory, media, save_generator, synthetic_clip):
    """Inputs of the bad-input tests: a small real face, tiny models, every kind of broken file."""
    import pickle
    import shutil
    from types import SimpleNamespace

    import torch
    from PIL import Image
    from safetensors.torch import save_file

    from ganimate.faces import AU_NAMES

    d = tmp_path_factory.mktemp("bad")
    face = Image.open(media / "faces/london/neutral/001.jpg").resize((160, 160))
    face.save(d / "face.jpg", quality=92)
    g17 = save_generator(d / "g17.safetensors", AU_NAMES)
    g2 = save_generator(d / "g2.safetensors", ["AU01", "AU02"])
    # the 17 AUs without the smile's (AU06, AU12, AU25): has AU26 of happy, not its lip corners
    save_generator(d / "g_nosmile.safetensors",
                   [n for n in AU_NAMES if n not in ("AU06", "AU12", "AU25")])
    save_generator(d / "g_nobrows.safetensors", [n for n in AU_NAMES if n not in ("AU01", "AU02")])
    raw = (d / "face.jpg").read_bytes()
    (d / "truncated.jpg").write_bytes(raw[: len(raw) // 3])
    (d / "noise.jpg").write_bytes(np.random.default_rng(0).bytes(3000))
    (d / "empty.png").write_bytes(b"")
    (d / "text.png").write_text("not an image\n")
    png_header_only(d / "bomb.png", 20000, 10000)
    (d / "empty_dir").mkdir()
    torch.save({"w": torch.zeros(2)}, d / "zip.pt")
    with (d / "old.pt").open("wb") as f:
        pickle.dump({"w": [0.0, 1.0]}, f, protocol=2)
    (d / "half.safetensors").write_bytes(g17.read_bytes()[:5000])
    save_file({"x": torch.zeros(2)}, str(d / "foreign.safetensors"))
    (d / "aus.json").write_text("{not json")
    (d / "no_ckpt").mkdir()
    # a 2 s clip without audio (no face needed: these fail before any frame is edited)
    shutil.copy(synthetic_clip, d / "clip.mp4")
    (d / "noise.mp4").write_bytes(np.random.default_rng(1).bytes(5000))
    return SimpleNamespace(dir=d, face=d / "face.jpg", g17=g17, g2=g2)
