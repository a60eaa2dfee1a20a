"""Evaluation reports: JSON for machines, rich tables for people, PNG figures (matplotlib, Agg).

The library builds tables; the CLI prints them (only the CLI and progress.py talk to the terminal).
Figures are drawn with matplotlib's Agg backend through an explicit ``Figure`` (no pyplot state),
so they work headless and in threads.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ganimate.evaluation.protocol import CheckpointResults, EvalResult
from ganimate.evaluation.video import VideoEvalResult
from ganimate.faces import AU_DESCRIPTIONS, RELIABLE_AUS
from ganimate.files import atomic_path, write_text

# Imported in the functions that use them, on purpose (start-up): matplotlib (where a figure is
# drawn), rich (where a table or bar is drawn).

# (label, getter, format, better) rows of the summary table; better: "low", "high" or "" (neutral).
_ROWS = [
    ("AU error, all edits (MAE)", lambda r: r.au_error.overall, "{:.3f}", "low"),
    ("  baseline: all edits if unedited", lambda r: r.au_error_unedited.overall, "{:.3f}", ""),
    ("AU error, swept AU (MAE)", lambda r: r.au_error_swept.overall, "{:.3f}", "low"),
    ("  baseline: swept AU if unedited", lambda r: r.au_error_unedited_swept.overall, "{:.3f}",
     ""),
    ("reader vs labels on inputs (MAE)", lambda r: r.reader_vs_labels.overall, "{:.3f}", ""),
    ("direction accuracy", lambda r: r.direction.overall, "{:.1%}", "high"),
    ("identity distance (mean)", lambda r: r.identity.mean if r.identity else None, "{:.3f}",
     "low"),
    ("identity: share < 0.6", lambda r: r.identity.share_under if r.identity else None, "{:.1%}",
     "high"),
    ("reconstruction L1 (levels)", lambda r: r.reconstruction_l1, "{:.2f}", "low"),
    ("cycle L1 (levels)", lambda r: r.cycle_l1, "{:.2f}", "low"),
    ("change outside face (levels)", lambda r: r.background_change, "{:.2f}", "low"),
    ("attention mean", lambda r: r.attention.mean, "{:.3f}", ""),
    ("attention saturated share", lambda r: r.attention.saturated, "{:.1%}", "low"),
    ("outputs without a readable face", lambda r: r.unreadable, "{:.1%}", "low"),
]


def _fmt(value, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return fmt.format(value)


def _better(values: list, better: str) -> int | None:
    """Index of the better of two values, None when equal, missing or not comparable."""
    if better == "" or len(values) != 2 or any(
            v is None or not math.isfinite(v) for v in values):
        return None
    a, b = values
    if a == b:
        return None
    return int((b < a) if better == "low" else (b > a))


def summary_table(results: Sequence[tuple[str, EvalResult]]):
    """A rich Table of the headline metrics, one column per result (best of two in bold)."""
    from rich.table import Table

    first = results[0][1]
    table = Table(title=f"ganimate eval: {first.faces} test faces, {first.edits} edits each",
                  title_justify="left")
    table.add_column("metric")
    for label, _ in results:
        table.add_column(label, justify="right")
    for name, get, fmt, better in _ROWS:
        values = [get(r) for _, r in results]
        best = _better(values, better)
        cells = [_fmt(v, fmt) for v in values]
        if best is not None:
            cells[best] = f"[bold]{cells[best]}[/bold]"
        table.add_row(name, *cells)
    skipped = {r.identity_skipped for _, r in results if r.identity_skipped}
    if skipped:
        table.caption = "identity skipped: " + "; ".join(sorted(skipped))
    return table


def per_au_table(results: Sequence[tuple[str, EvalResult]]):
    """A rich Table of per-AU error (swept AU) and direction accuracy."""
    from rich.table import Table


    table = Table(title="per AU (reliable AUs only)", title_justify="left")
    table.add_column("AU")
    for label, _ in results:
        table.add_column(f"MAE swept {label}" if len(results) > 1 else "MAE swept",
                         justify="right")
        table.add_column(f"direction {label}" if len(results) > 1 else "direction",
                         justify="right")
    for au in results[0][1].reliable:
        cells = []
        for _, r in results:
            cells.append(_fmt(r.au_error_swept.per_au.get(au), "{:.3f}"))
            cells.append(_fmt(r.direction.per_au.get(au), "{:.0%}"))
        desc = AU_DESCRIPTIONS.get(au, "")
        table.add_row(f"{au} {desc}".strip(), *cells)
    return table


def video_table(result: VideoEvalResult):
    """A rich Table of a video evaluation."""
    from rich.table import Table

    table = Table(title=f"ganimate eval video: {result.frames} frames, "
                        f"{result.frames_with_face} with a face", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    f = result.flicker
    rows = [
        ("flicker added (levels/frame)", _fmt(f.flicker, "{:.2f}")),
        ("face change/frame, output", _fmt(f.output_change, "{:.2f}")),
        ("face change/frame, input", _fmt(f.input_change, "{:.2f}")),
        ("edit strength in face (levels)", _fmt(result.face_change, "{:.2f}")),
        ("change outside face (levels)", _fmt(result.background_change, "{:.2f}")),
    ]
    if result.identity is not None:
        rows += [("identity distance (mean)", _fmt(result.identity.mean, "{:.3f}")),
                 ("identity: share < 0.6", _fmt(result.identity.share_under, "{:.1%}"))]
    rows += _frame_rows(result)
    for row in rows:
        table.add_row(*row)
    if result.identity_skipped:
        table.caption = f"identity skipped: {result.identity_skipped}"
    return table


def _frame_rows(result: VideoEvalResult) -> list[tuple[str, str]]:
    """The frame-to-frame rows: edit layer, teeth, mouth, the expected expression."""
    t, m = result.teeth, result.mouth_flicker
    rows = [
        ("edit-layer flicker (levels/frame)", _fmt(result.edit_flicker.change, "{:.2f}")),
        (f"teeth pops per 100 frames ({t.pops} in {t.steps})", _fmt(t.pops_per_100, "{:.1f}")),
        (f"  input's own teeth jumps ({t.input_jumps})", _fmt(t.input_jumps_per_100, "{:.1f}")),
        ("teeth share of the mouth, output", _fmt(t.output_teeth, "{:.2f}")),
        ("teeth share of the mouth, input", _fmt(t.input_teeth, "{:.2f}")),
        ("mouth flicker out/in (levels/frame)",
         f"{_fmt(m.output_change, '{:.2f}')} / {_fmt(m.input_change, '{:.2f}')}"),
        ("mouth flicker ratio out/in", _fmt(m.ratio, "{:.2f}")),
        (f"  where the input's mouth is open ({m.open_steps} steps) / closed "
         f"({m.closed_steps})", f"{_fmt(m.open_ratio, '{:.2f}')} / "
                                f"{_fmt(m.closed_ratio, '{:.2f}')}"),
        ("mouth level flicker out/in (levels/frame)",
         f"{_fmt(m.level_output, '{:.2f}')} / {_fmt(m.level_input, '{:.2f}')} "
         f"({_fmt(m.level_ratio, '{:.2f}')})"),
        ("frames whose mouth a hand covers (not read)", str(result.mouth_covered)),
    ]
    e = result.expressions
    if e is not None and e.expected is not None:
        rows.append((f"reads {e.expected.label} (of {e.frames} frames)",
                     f"{e.expected.output:.0%} (input {e.expected.input:.0%})"))
    return rows


def video_expression_table(result: VideoEvalResult):
    """A rich Table of the FER-2013 classifier's top-1 label over the frames read; None when no
    frame was read."""
    from rich.table import Table

    e = result.expressions
    if e is None:
        return None
    table = Table("label", "top-1 output", "top-1 input", "mean P output", "mean P input",
                  title=f"expression read on {e.frames} frames (every {e.every})",
                  title_justify="left", box=None)
    for s in e.labels:
        label = f"[bold]{s.label}[/bold]" if e.expected is s else s.label
        table.add_row(label, f"{s.output:.0%}", f"{s.input:.0%}", _fmt(s.output_p, "{:.3f}"),
                      _fmt(s.input_p, "{:.3f}"))
    return table


# --- files ---------------------------------------------------------------------------------------


def write_json(path: str | os.PathLike, data: dict) -> Path:
    """Write JSON atomically (strict: NaN must already be None)."""
    return write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def _save(fig, path: Path) -> Path:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)
    return path


def plot_au_errors(results: Sequence[tuple[str, EvalResult]], path: str | os.PathLike) -> Path:
    """Bar chart: per reliable AU, the swept-AU error of each result, with the do-nothing line."""
    from matplotlib.figure import Figure

    aus = results[0][1].reliable
    x = np.arange(len(aus))
    width = 0.8 / len(results)
    fig = Figure(figsize=(max(5.0, 0.6 * len(aus) + 2), 3.6))
    ax = fig.add_subplot()
    for i, (label, r) in enumerate(results):
        vals = [r.au_error_swept.per_au.get(a, math.nan) for a in aus]
        ax.bar(x + (i - (len(results) - 1) / 2) * width, np.nan_to_num(vals), width,
               label=f"{label}: {r.au_error_swept.overall:.3f}")
    base = results[0][1].au_error_unedited_swept
    ax.scatter(x, [base.per_au.get(a, math.nan) for a in aus], marker="_", s=900, color="black",
               zorder=3, label=f"if unedited: {base.overall:.3f}")
    top = np.nanmax([v for _, r in results for v in r.au_error_swept.per_au.values()]
                    + list(base.per_au.values()) + [0.05])
    ax.set_ylim(0, 1.35 * top)
    ax.set_xticks(x, aus, rotation=45 if len(aus) > 8 else 0)
    ax.set_ylabel("|measured - target| (0-1)")
    ax.set_title("AU error on the swept AU (lower is better)")
    ax.legend(fontsize=8, loc="upper right", ncol=len(results) + 1)
    fig.tight_layout()
    return _save(fig, Path(path))


def plot_sweep(result: EvalResult, path: str | os.PathLike, label: str = "") -> Path | None:
    """Grid: per swept AU (rows), each sweep face's input and outputs at the sweep levels."""
    from matplotlib.figure import Figure

    s = result.sweep
    if s is None or not len(s.face_ids) or not len(s.au_names):
        return None
    n_faces, n_aus, n_levels = s.outputs.shape[:3]
    cols = n_faces * (n_levels + 1)
    height = 1.3 * n_aus + 0.5
    fig = Figure(figsize=(1.1 * cols, height))
    for a in range(n_aus):
        for f in range(n_faces):
            tiles = [(s.inputs[f], "input")] + [
                (s.outputs[f, a, li], f"{s.au_names[a]}={lv:g}") for li, lv in enumerate(s.levels)
            ]
            for t, (img, title) in enumerate(tiles):
                ax = fig.add_subplot(n_aus, cols, a * cols + f * (n_levels + 1) + t + 1)
                ax.imshow(img)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(title, fontsize=6, pad=2)
    fig.suptitle(f"AU sweeps {label}".strip(), fontsize=9)
    fig.tight_layout(pad=0.3, rect=(0, 0, 1, 1 - 0.35 / height))  # room for the title
    return _save(fig, Path(path))


def write_report(result: EvalResult, out_dir: str | os.PathLike) -> list[Path]:
    """report.json, au_error.png and au_sweep.png in ``out_dir``; returns the paths written."""
    out = Path(out_dir)
    paths = [write_json(out / "report.json", result.to_dict()),
             plot_au_errors([("model", result)], out / "au_error.png")]
    sweep = plot_sweep(result, out / "au_sweep.png")
    return paths + ([sweep] if sweep else [])


def write_comparison(results: Sequence[tuple[str, EvalResult]],
                     out_dir: str | os.PathLike) -> list[Path]:
    """compare.json (each result under its label), au_error.png side by side, a sweep per model."""
    out = Path(out_dir)
    data = {"compare": [label for label, _ in results],
            "results": {label: r.to_dict() for label, r in results}}
    paths = [write_json(out / "compare.json", data),
             plot_au_errors(results, out / "au_error.png")]
    for i, (label, r) in enumerate(results):
        sweep = plot_sweep(r, out / f"au_sweep_{'ab'[i] if i < 2 else i}.png", label)
        if sweep:
            paths.append(sweep)
    return paths


def video_report_folder(edited: str | os.PathLike, out: str | os.PathLike | None = None,
                        as_json: bool = False) -> Path | None:
    """Where `eval video` writes its report: ``out``, else beside the edited video
    (``clips/happy.mp4`` -> ``clips/happy-eval``); None with ``as_json`` and no ``out`` (the
    JSON on stdout is the report)."""
    if out:
        return Path(out)
    if as_json:
        return None
    edited = Path(edited)
    return edited.with_name(f"{edited.stem}-eval")


def write_video_report(result: VideoEvalResult, out_dir: str | os.PathLike) -> list[Path]:
    """video_report.json in ``out_dir``."""
    return [write_json(Path(out_dir) / "video_report.json", result.to_dict())]


# --- the photo protocol (ganimate eval photos) ---------------------------------------------------


def photo_tables(result) -> list:
    """The tables of a :class:`ganimate.evaluation.photos.PhotoEvalResult`: the dlib-68 reader, the
    mesh estimator beside it, then identity and pixels."""
    from rich.table import Table


    s = result.summary
    title = f"{result.engine} engine, {result.target or 'target'}: {s['photos']} photos"
    if result.skipped:
        title += f", {len(result.skipped)} skipped (listed below)"
    dlib = Table("dlib-68 reader (IOD units)", "edit", "up", "real", "real up", "edit/real",
                 ">= half of real", title=title, box=None)
    for name, m in s["dlib"].items():
        dlib.add_row(name, _fmt(m["edit_mean"], "{:+.4f}"), _fmt(m["edit_up"], "{:.0%}"),
                     _fmt(m["real_mean"], "{:+.4f}"), _fmt(m["real_up"], "{:.0%}"),
                     _fmt(m["ratio"], "{:.2f}"), _fmt(m["half_of_real"], "{:.0%}"))
    mesh = Table("mesh AU estimator (raw)", "", "edit", "real", box=None)
    for name, m in s["mesh"].items():
        moved = m["edit_mean"] is not None and abs(m["edit_mean"]) >= 0.02
        if name in RELIABLE_AUS or moved:
            mesh.add_row(name, AU_DESCRIPTIONS[name], _fmt(m["edit_mean"], "{:+.3f}"),
                         _fmt(m["real_mean"], "{:+.3f}"))
    emotion = _emotion_table(s["emotion"])
    pixels = Table("identity and pixels", "value", box=None)
    for label, key, fmt in (
            ("identity distance in -> edit (mean)", "identity_edit", "{:.3f}"),
            ("identity distance in -> real (mean)", "identity_reference", "{:.3f}"),
            ("sharpness out/in, face box (mean)", "sharpness_mean", "{:.3f}"),
            ("sharpness out/in (worst)", "sharpness_min", "{:.3f}"),
            ("colour fringe p99 a/b (mean)", "fringe_mean", "{:.2f}"),
            ("colour fringe p99 a/b (worst)", "fringe_max", "{:.2f}"),
            ("new colours p99 a/b (mean)", "new_colour_mean", "{:.2f}"),
            ("new colours p99 a/b (worst)", "new_colour_max", "{:.2f}"),
            ("lip gap grows >= 0.04 IOD (dlib)", "lip_gap_004", "{:.0%}"),
            ("pixels changed 1 IOD outside the face", "outside_changed", "{:d}"),
            ("null edit: mean change in face box", "null_change", "{:.3f}"),
            ("null edit: bit-identical share", "null_identical", "{:.0%}"),
            ("photos/s (edit only)", "photos_per_s", "{:.2f}")):
        pixels.add_row(label, _fmt(s[key], fmt))
    return [dlib, mesh, emotion, pixels] + ([_skipped_table(result.skipped)] if result.skipped
                                            else [])


def _emotion_table(summary: dict):
    """The FER-2013 classifier over the edits, the inputs and the real expressions."""
    from rich.table import Table

    n, refs = summary["_read"], summary["_references"]
    table = Table(f"FER-2013 classifier ({n} read)", "top-1 edit", "mean P", "raised over input",
                  "top-1 input", f"top-1 real ({refs})", "mean P real", box=None)
    for label, m in summary.items():
        if label.startswith("_"):
            continue
        table.add_row(label, f"{m['top']}/{n}", _fmt(m["p_mean"], "{:.3f}"),
                      _fmt(m["raised"], "{:.0%}"), f"{m['input_top']}/{n}",
                      f"{m['real_top']}/{refs}" if refs else "-", _fmt(m["real_p_mean"], "{:.3f}"))
    return table


def _skipped_table(skipped):
    """The photos that ``eval photos`` could not measure, and why."""
    from rich.table import Table

    table = Table("skipped photo", "reason", box=None)
    for s in skipped:
        table.add_row(s.path, s.reason)
    return table


def write_photo_report(result, out_dir: str | os.PathLike) -> list[Path]:
    """report.json of a photo evaluation."""
    return [write_json(Path(out_dir) / "report.json", result.to_dict())]


@dataclass
class EvalRun:
    """What ``ganimate eval model`` shows: labelled results, the report data and files."""

    results: list[tuple[str, EvalResult]]
    data: dict
    paths: list[Path]


def write_model_report(measured: CheckpointResults, out: str | Path | None = None) -> EvalRun:
    """The report of :func:`ganimate.evaluation.evaluate_checkpoints` (a comparison for two
    checkpoints) in ``out`` [its default folder]."""
    folder = Path(out) if out else measured.default_folder
    results = measured.results
    if measured.compared:
        paths = write_comparison(results, folder)
        return EvalRun(results, json.loads(paths[0].read_text()), paths)
    return EvalRun(results, results[0][1].to_dict(), write_report(results[0][1], folder))
