"""`ganimate demo`: what the toolkit does, in a minute, with no input of your own.

It runs the user-facing commands' library functions on media bundled with the package
(``ganimate/assets/demo``, licences in its NOTICE.md) with the default engine (the warp: clean,
full-resolution geometry, no model) and, beside it, the generator shipped in
``ganimate.model.bundled`` (or ``--checkpoint``), and writes into one folder:

- ``photo_input.jpg`` and ``photo_<expression>.jpg``: the bundled photo edited to a few presets
  with the warp (as ``ganimate edit image --expression``);
- ``compare.png``: the face for each preset, input | warp | gan | hybrid side by side;
- ``sweep.png`` (warp) and ``sweep_gan.png``: the face swept over a few AUs' intensities (as
  ``ganimate edit sweep``);
- ``animate_image.mp4``: the photo moving to a smile and back (as ``ganimate animate image``);
- ``animate_video.mp4``: the bundled video with a new expression ramped in (as ``ganimate
  animate video``).

Each step is independent: one that fails is reported and the others still run.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from ganimate.animation import ImageAnimation, animate_image, animate_video
from ganimate.editing import (
    EditConfig,
    SweepConfig,
    draw_grid,
    edit_photo,
    face_cell,
    sweep_photo,
    write_photo_edit,
)
from ganimate.engines import Engine, GanEngine, HybridEngine, WarpEngine
from ganimate.errors import GanimateError
from ganimate.faces import FaceMesh, largest_face
from ganimate.images import read_rgb, write_image
from ganimate.targets import TargetSpec, parse_expression, target_spec

log = logging.getLogger("ganimate")

PHOTO = "london_005_neutral.jpg"
VIDEO = "single_face.mp4"


@dataclass(frozen=True)
class DemoConfig:
    """What `ganimate demo` makes; every field has a CLI option of the same meaning."""

    # Presets the photo is edited to (see `ganimate.targets.PRESETS`).
    expressions: tuple[str, ...] = ("happy", "surprise", "sad", "anger")
    # AUs of the sweep grid, one row each, and their intensities, one column each. AU12 and AU25
    # are among the AUs our estimator reads reliably (docs/aus.md) and the training data exercise;
    # AU04 shows a brow AU, which the model learned from fewer examples.
    sweep_aus: tuple[str, ...] = ("AU12", "AU25", "AU04")
    sweep_steps: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    sweep_cell: int = 160  # side of a sweep grid cell, px
    # The `animate image` clip: the photo to a smile and back.
    clip_expression: str = "happy"
    clip_seconds: float = 2.0
    clip_fps: float = 25.0
    # The `animate video` clip: this expression ramped in over the bundled video (its man smiles
    # by himself at the end; "surprise" makes the edit plain to see).
    video_expression: str = "surprise"
    device: str = "cpu"  # the demo is meant for any machine; "auto" uses a GPU if present

    @classmethod
    def quick(cls, **overrides) -> DemoConfig:
        """A small demo for tests and slow machines: one expression, a 1-row sweep, a short clip."""
        settings = dict(expressions=("happy",), sweep_aus=("AU12",), sweep_steps=(0.0, 1.0),
                        sweep_cell=96, clip_seconds=0.4, clip_fps=10.0)
        settings.update(overrides)
        return cls(**settings)


@dataclass
class DemoStep:
    """One step of the demo and what came of it."""

    name: str  # the command it shows, e.g. "edit image"
    status: str  # "ok", "skipped" (feature missing from this install) or "failed"
    paths: list[Path] = field(default_factory=list)
    message: str = ""  # why it was skipped or failed
    seconds: float = 0.0


@dataclass
class DemoResult:
    out: Path
    model: Path  # the generator used
    standin: bool  # True when it is the CPU stand-in (then the edits are weak by design)
    steps: list[DemoStep]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.steps)

    @property
    def paths(self) -> list[Path]:
        return [p for s in self.steps for p in s.paths]


def asset(name: str) -> Path:
    """A bundled demo file (package data)."""
    path = Path(str(resources.files("ganimate") / "assets" / "demo" / name))
    if not path.is_file():
        raise GanimateError(f"{path}: bundled demo file missing; reinstall ganimate")
    return path


def _resolve_model(checkpoint: str | os.PathLike | None):
    """(file, is stand-in) of the model to use: ``checkpoint``, else the shipped one."""
    from ganimate.model import bundled  # deferred: loads torch

    if checkpoint is not None:
        from ganimate.model import resolve_checkpoint  # deferred: loads torch

        return resolve_checkpoint(checkpoint), False
    shipped = bundled.bundled_models()
    if not shipped:
        raise GanimateError("no model ships with this ganimate; pass --checkpoint CKPT (a file "
                            "from `ganimate train` or `ganimate export`)")
    if shipped[0].standin:
        bundled.warn_standin(shipped[0])
    return shipped[0].path, shipped[0].standin


def run_demo(out: str | os.PathLike, config: DemoConfig = DemoConfig(),
             checkpoint: str | os.PathLike | None = None) -> DemoResult:
    """Make the demo files in ``out`` (created; existing demo files are replaced)."""
    start = time.perf_counter()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise GanimateError(f"{out}: exists and is not a folder; pass a folder to -o")
    out.mkdir(parents=True, exist_ok=True)
    photo, video = asset(PHOTO), asset(VIDEO)
    model_path, standin = _resolve_model(checkpoint)
    from ganimate.model import load_generator  # deferred: loads torch

    loaded = load_generator(model_path, device=config.device)
    warp, gan = WarpEngine(), GanEngine(loaded)
    steps = [
        _step("edit image", lambda: _expressions(photo, out, (warp, gan, HybridEngine(loaded)),
                                                 config)),
        _step("edit sweep", lambda: _sweeps(photo, out, warp, gan, config)),
        _step("animate image", lambda: _animate_image(photo, out, warp, config)),
        _step("animate video", lambda: _animate_video(video, out, warp, config)),
    ]
    return DemoResult(out, model_path, standin, steps, time.perf_counter() - start)


def _step(name: str, work: Callable[[], list[Path]]) -> DemoStep:
    t = time.perf_counter()
    log.info("demo: %s", name)
    try:
        paths = work()
    except GanimateError as exc:
        log.error("demo: %s failed: %s", name, exc)
        return DemoStep(name, "failed", message=str(exc), seconds=time.perf_counter() - t)
    return DemoStep(name, "ok", paths, seconds=time.perf_counter() - t)


def _spec(engine: Engine, expression: str, said: set | None = None) -> TargetSpec:
    """The preset for ``engine``. With ``said`` (the compare grid, where the generator's two
    columns share one model): AUs the model lacks are named once, with the columns they affect,
    instead of once per engine as `edit image` would."""
    if said is None:
        return target_spec(expression=expression, au_names=engine.au_names)
    spec = TargetSpec(expression=parse_expression(expression))
    missing = spec.expression.preset.missing(engine.au_names)
    if missing and (expression, missing) not in said:
        said.add((expression, missing))
        log.warning("compare.png: the generator has no %s, so its %s (gan and hybrid columns) "
                    "leaves it out; the warp's row has it", ", ".join(missing), expression)
    return spec


def _expressions(photo: Path, out: Path, engines: Sequence[Engine], config: DemoConfig
                 ) -> list[Path]:
    """The presets with the first engine (photo_<name>.jpg) and the face by every engine side by
    side (compare.png)."""

    paths = [out / "photo_input.jpg"]
    shutil.copyfile(photo, paths[0])
    rgb = read_rgb(photo)
    cells, said = [], set()
    with FaceMesh() as mesh:
        box = largest_face(mesh(rgb)).box
        for name in config.expressions:
            row = [face_cell(rgb, box, False, config.sweep_cell)]
            for engine in engines:
                spec = _spec(engine, name, None if engine is engines[0] else said)
                edit = edit_photo(photo, EditConfig(spec=spec), engine, mesh=mesh)
                row.append(face_cell(edit.rgb, box, False, config.sweep_cell))
                if engine is engines[0]:
                    paths.append(write_photo_edit(edit, out / f"photo_{name}.jpg"))
            cells.append(np.stack(row))
    grid = draw_grid(np.stack(cells), list(config.expressions),
                     ["input", *(e.name for e in engines)])
    paths.append(write_image(out / "compare.png", grid))
    return paths


def _sweeps(photo: Path, out: Path, warp, gan, config: DemoConfig) -> list[Path]:
    paths = []
    for engine, name in ((warp, "sweep.png"), (gan, "sweep_gan.png")):
        aus = tuple(a for a in config.sweep_aus if a in engine.au_names)
        if aus:
            result = sweep_photo(photo, SweepConfig(aus=aus, steps=config.sweep_steps,
                                                    cell=config.sweep_cell), engine)
            paths.append(write_image(out / name, result.grid))
    return paths


def _animate_image(photo: Path, out: Path, engine: Engine, config: DemoConfig) -> list[Path]:
    settings = ImageAnimation(seconds=config.clip_seconds, fps=config.clip_fps, bounce=True)
    result = animate_image(photo, out / "animate_image.mp4", engine,
                           _spec(engine, config.clip_expression), settings)
    return [Path(result.out)]


def _animate_video(video: Path, out: Path, engine: Engine, config: DemoConfig) -> list[Path]:
    result = animate_video(video, out / "animate_video.mp4", engine,
                           _spec(engine, config.video_expression))
    return [Path(result.out)]
