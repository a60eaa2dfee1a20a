"""`ganimate animate video` against a plain ffmpeg transcode of the same clip, in one run.

    .venv/bin/python benchmarks/animate_throughput.py [--clip PATH] [--square 512] [--frames 354]
        [--loops 6] [--runs 3] [--model warp|paper|tiny|CKPT] [--preset medium] [--crf 18]
        [--device auto] [--json]

Builds the clips it times from ``--clip`` (default: the shipped single_face.mp4, 640x360):

- ``--square N``: the clip cut to a square around its face and scaled to N x N (a talking-head
  framing; issue 21 measures 512), played forwards then backwards until it is ``--frames`` long
  (default: the source's length), so that the face never leaves;
- a ``--loops`` times longer copy of it (default 6), to check that memory does not grow.

Both are written near-losslessly by the same encoder. Then, ``--runs`` times each (medians):

- the ceiling: ``ffmpeg -i CLIP`` decoded and re-encoded with exactly the x264 settings of
  ``animate video`` (``video.x264_args``);
- the command a user types, ``python -m ganimate animate video CLIP -e happy -o OUT -v``, timed
  from its launch to its exit (imports, mediapipe and model loading included), with the time
  from launch to the first frame written, the busy ms a frame of every stage (``-v``) and the
  peak resident memory of the command's processes (the largest one, ``wait4``).

The ratio animate / ffmpeg is what issue 21 asks to be at most 3.2 on a 512 x 512 clip.
``--model warp`` (default) is the warp engine; ``paper`` a randomly initialised generator of the
paper's size (the speed of a real model, whatever its weights), ``tiny`` a 32 px one, or a
checkpoint (both through ``--engine gan``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = ROOT / "tests" / "data" / "video" / "single_face.mp4"  # shipped (MIT)


def make_model(kind: str, folder: Path) -> Path | None:
    """None for the warp; a checkpoint path otherwise (``paper`` / ``tiny`` are written)."""
    if kind == "warp":
        return None
    if kind not in ("paper", "tiny"):
        return Path(kind)
    import torch

    from ganimate.model import Generator, ModelConfig, save_checkpoint

    torch.manual_seed(0)
    cfg = ModelConfig() if kind == "paper" else ModelConfig(
        image_size=32, g_width=4, g_residual_blocks=1, d_width=4, d_layers=3)
    path = folder / f"{kind}.safetensors"
    save_checkpoint(path, {f"G.{k}": v for k, v in Generator(cfg).state_dict().items()},
                    {"kind": "generator", "model": cfg.to_dict(),
                     "au_names": list(cfg.au_names), "step": 0})
    return path


def _square_cut(frame, side: int, centre_x: float):
    """The frame's full-height square around ``centre_x``, scaled to ``side`` x ``side``."""
    import cv2

    h, w = frame.shape[:2]
    s = min(h, w)
    x0 = int(round(min(max(centre_x - s / 2, 0), w - s)))
    y0 = (h - s) // 2
    return cv2.resize(frame[y0:y0 + s, x0:x0 + s], (side, side), interpolation=cv2.INTER_AREA)


def make_clips(src: Path, square: int | None, frames: int | None, loops: int, folder: Path
               ) -> tuple[Path, Path]:
    """The clip (square and ping-pong looped if asked) and a ``loops`` times longer copy."""
    from ganimate.faces import FaceMesh
    from ganimate.video import VideoWriter, probe, read_frames

    info = probe(src)
    source = list(read_frames(src, info))  # a short clip: a few MB
    if square:
        with FaceMesh() as mesh:
            faces = mesh(source[0])
        cx = faces[0].box.center[0] if faces else source[0].shape[1] / 2
        source = [_square_cut(f, square, cx) for f in source]
    n = frames or len(source)
    cycle = list(range(len(source))) + list(range(len(source) - 2, 0, -1))
    order = [cycle[i % len(cycle)] for i in range(n)]
    out = []
    for name, repeat in (("clip", 1), ("long", loops)):
        path = folder / f"{name}.mp4"
        with VideoWriter(path, fps=info.fps, crf=12, preset="veryfast") as w:
            for _ in range(repeat):
                for i in order:
                    w.write(source[i])
        out.append(path)
    return out[0], out[1]


def _timed(cmd: list[str]) -> tuple[float, str, float]:
    """(wall seconds, stderr, peak RSS MiB of the largest process) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err[-3000:]}")
    return seconds, err, usage.ru_maxrss / 1024


def ffmpeg_ceiling(clip: Path, crf: int, preset: str, folder: Path) -> float:
    from ganimate.video import ffmpeg_exe, x264_args

    return _timed([ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-map", "0:v:0",
                   *x264_args(crf, preset), str(folder / "ceiling.mp4")])[0]


_STAGES = re.compile(r"per frame: (.*)")
_FIRST = re.compile(r"first frame written ([\d.]+) s")


def animate(clip: Path, model: Path | None, args, folder: Path) -> dict:
    cmd = [sys.executable, "-m", "ganimate", "animate", "video", str(clip), "-e", "happy",
           "-o", str(folder / "out.mp4"), "-v", "--crf", str(args.crf), "--preset", args.preset]
    if model is not None:
        cmd += ["--engine", "gan", "--checkpoint", str(model), "--device", args.device]
    seconds, err, rss = _timed(cmd)
    flat = " ".join(line.strip() for line in err.splitlines())  # rich wraps the log line
    stages = {}
    m = _STAGES.search(flat)
    if m:
        for part in m.group(1).split(","):
            bits = part.split()
            if len(bits) >= 2 and bits[0].isidentifier():
                try:
                    stages[bits[0]] = float(bits[1])
                except ValueError:
                    pass
    first = _FIRST.search(flat)
    return {"seconds": seconds, "first_frame_s": float(first.group(1)) if first else None,
            "peak_rss_mib": rss, "stages_ms": stages}


def measure(clip: Path, model: Path | None, args, folder: Path) -> dict:
    from ganimate.video import probe

    n = probe(clip).frame_count
    ff, runs = [], []
    for _ in range(args.runs):  # interleaved, so that both see the same machine
        ff.append(ffmpeg_ceiling(clip, args.crf, args.preset, folder))
        runs.append(animate(clip, model, args, folder))
    med = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    ffmpeg_s = statistics.median(ff)
    return {"frames": n, "ffmpeg_s": round(ffmpeg_s, 2), "ffmpeg_fps": round(n / ffmpeg_s, 1),
            "animate_s": round(med["seconds"], 2), "animate_fps": round(n / med["seconds"], 1),
            "ratio": round(med["seconds"] / ffmpeg_s, 2),
            "first_frame_s": med["first_frame_s"],
            "peak_rss_mib": round(max(r["peak_rss_mib"] for r in runs), 1),
            "stages_ms": med["stages_ms"],
            "animate_runs_s": [round(r["seconds"], 2) for r in runs],
            "ffmpeg_runs_s": [round(s, 2) for s in ff]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default=str(DEFAULT_CLIP))
    parser.add_argument("--square", type=int, default=None, help="square side (e.g. 512)")
    parser.add_argument("--frames", type=int, default=None, help="clip length (ping-pong)")
    parser.add_argument("--loops", type=int, default=6, help="the long copy; 0: none")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--model", default="warp",
                        help="warp (the engine), paper, tiny, or a checkpoint path")
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = make_model(args.model, folder)
        clip, long = make_clips(Path(args.clip), args.square, args.frames, max(args.loops, 1),
                                folder)
        results = {"machine": f"{platform.processor() or platform.machine()}, "
                              f"{os.cpu_count()} CPUs", "model": args.model,
                   "clip": Path(args.clip).name, "square": args.square, "crf": args.crf,
                   "preset": args.preset, "clip_run": measure(clip, model, args, folder)}
        if args.loops > 1:
            results["long_run"] = measure(long, model, args, folder)
            results["rss_growth"] = round(results["long_run"]["peak_rss_mib"]
                                          / results["clip_run"]["peak_rss_mib"] - 1, 3)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{results['machine']}; model {args.model}; x264 crf {args.crf} preset "
          f"{args.preset}; clip {results['clip']}" + (f" as {args.square}x{args.square}"
                                                       if args.square else ""))
    print("| clip | frames | ffmpeg s (fps) | animate s (fps) | animate / ffmpeg | "
          "first frame s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for name in ("clip_run", "long_run"):
        r = results.get(name)
        if r:
            print(f"| {name.split('_')[0]} | {r['frames']} | {r['ffmpeg_s']} ({r['ffmpeg_fps']}) "
                  f"| {r['animate_s']} ({r['animate_fps']}) | {r['ratio']} | "
                  f"{r['first_frame_s']} | {r['peak_rss_mib']} |")
    if "rss_growth" in results:
        print(f"peak RSS growth long vs clip: {100 * results['rss_growth']:+.1f} %")
    r = results["clip_run"]
    print("runs (s): animate " + ", ".join(map(str, r["animate_runs_s"])) + "; ffmpeg "
          + ", ".join(map(str, r["ffmpeg_runs_s"])))
    print("per frame, busy ms by stage (stages in other threads overlap): "
          + ", ".join(f"{k} {v}" for k, v in r["stages_ms"].items()))


if __name__ == "__main__":
    main()
