"""Throughput and memory of `ganimate animate video` against a plain ffmpeg decode + encode.

    .venv/bin/python benchmarks/animate_throughput.py [--model paper|tiny|CKPT] [--clip PATH]
        [--frames N] [--loops 6] [--preset medium] [--crf 18] [--device auto] [--json]

Makes a short clip (the first ``--frames`` frames of ``--clip``, default the whole of
single_face.mp4) and a ``--loops`` times longer one (the short clip looped), both encoded the same
way. Then, for each clip:

- the ceiling: ``ffmpeg -i CLIP`` decoded and re-encoded with exactly the x264 settings that
  ``animate video`` uses (``video.x264_args``), in frames/s;
- ``animation.animate_video`` (expression ``happy``) in a fresh child process, in frames/s, its
  busy milliseconds a frame per stage (``ganimate.timing``), and the child's peak resident
  memory (``ru_maxrss`` of the Python process; the ffmpeg children are reported apart). Memory
  must not grow with the clip's length: the pipeline only ever holds a few frames per stage.

``--model warp`` runs the warp engine (no model). ``--model paper`` (default) is a randomly
initialised generator of the paper's size (128 px, 64 channels, 6 residual blocks): the speed of
a real model, whatever its weights. ``tiny`` is a 32 px 4-channel generator that shows what the
rest of the pipeline costs. Or pass a checkpoint.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIP = ROOT / "tests" / "data" / "video" / "single_face.mp4"  # shipped (MIT)


def make_model(kind: str, folder: Path) -> Path:
    import torch

    from ganimate.checkpoint import save_checkpoint
    from ganimate.config import ModelConfig
    from ganimate.networks import Generator

    if kind not in ("paper", "tiny"):
        return Path(kind)  # a checkpoint, or "warp" (no model)
    torch.manual_seed(0)
    cfg = ModelConfig() if kind == "paper" else ModelConfig(
        image_size=32, g_width=4, g_residual_blocks=1, d_width=4, d_layers=3)
    path = folder / f"{kind}.safetensors"
    save_checkpoint(path, {f"G.{k}": v for k, v in Generator(cfg).state_dict().items()},
                    {"kind": "generator", "model": cfg.to_dict(),
                     "au_names": list(cfg.au_names), "step": 0})
    return path


def make_clips(src: Path, frames: int | None, loops: int, folder: Path) -> tuple[Path, Path]:
    """The short clip and the looped one, written by the same encoder (near-lossless x264)."""
    import itertools

    from ganimate.video import VideoWriter, probe, read_frames

    info = probe(src)
    n = info.frame_count if frames is None else min(frames, info.frame_count)
    out = []
    for name, repeat in (("short", 1), ("long", loops)):
        path = folder / f"{name}.mp4"
        with VideoWriter(path, fps=info.fps, crf=12, preset="veryfast") as w:
            for _ in range(repeat):
                for frame in itertools.islice(read_frames(src, info), n):
                    w.write(frame)
        out.append(path)
    return out[0], out[1]


def ffmpeg_ceiling(clip: Path, crf: int, preset: str, folder: Path) -> dict:
    from ganimate.video import ffmpeg_exe, probe, x264_args

    n = probe(clip).frame_count
    out = folder / "ceiling.mp4"
    start = time.perf_counter()
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(clip), "-map", "0:v:0",
                    *x264_args(crf, preset), str(out)], check=True)
    seconds = time.perf_counter() - start
    return {"frames": n, "seconds": round(seconds, 2), "fps": round(n / seconds, 1)}


def child(args) -> None:
    """Run one animation and print its numbers as JSON (a fresh process per measurement)."""
    from ganimate.animation import AnimateConfig, animate_video
    from ganimate.engines import load_engine
    from ganimate.targets import target_spec

    engine = (load_engine("warp") if args.model == "warp"
              else load_engine("gan", args.model, device=args.device))
    spec = target_spec(expression="happy", au_names=engine.au_names)
    result = animate_video(args.clip, args.out, engine, spec,
                           AnimateConfig(crf=args.crf, preset=args.preset))
    self_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    loaded = getattr(engine, "loaded", None)
    print(json.dumps({"frames": result.frames, "seconds": round(result.seconds, 2),
                      "fps": round(result.fps, 2), "steady_fps": round(result.steady_fps, 2),
                      "startup_s": round(result.startup, 2),
                      "peak_rss_mib": round(self_kib / 1024, 1),
                      "peak_ffmpeg_rss_mib": round(children_kib / 1024, 1),
                      "stages_ms": {k: round(v, 2) for k, v in
                                    result.stages.per_frame_ms(result.frames).items()},
                      "device": "cpu" if loaded is None else str(loaded.device)}))


def animate(model: Path, clip: Path, out: Path, args) -> dict:
    cmd = [sys.executable, __file__, "--child", "--model", str(model), "--clip", str(clip),
           "--out", str(out), "--crf", str(args.crf), "--preset", args.preset, "--device",
           args.device]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"animate failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="paper",
                        help="paper, tiny, a checkpoint path, or warp (the warp engine)")
    parser.add_argument("--clip", default=str(DEFAULT_CLIP))
    parser.add_argument("--frames", type=int, default=None, help="frames of --clip to use")
    parser.add_argument("--loops", type=int, default=6)
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--preset", default="medium")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model = make_model(args.model, folder)
        short, long = make_clips(Path(args.clip), args.frames, args.loops, folder)
        results = {"machine": f"{platform.processor() or platform.machine()}, "
                              f"{os.cpu_count()} CPUs", "model": args.model,
                   "clip": Path(args.clip).name, "crf": args.crf, "preset": args.preset}
        for name, clip in (("short", short), ("long", long)):
            results[name] = {"ffmpeg": ffmpeg_ceiling(clip, args.crf, args.preset, folder),
                             "animate": animate(model, clip, folder / f"{name}-out.mp4", args)}
        s, lg = results["short"]["animate"], results["long"]["animate"]
        results["rss_growth"] = round(lg["peak_rss_mib"] / s["peak_rss_mib"] - 1, 3)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{results['machine']}; model {args.model}; device {s['device']}; "
          f"x264 crf {args.crf} preset {args.preset}; clip {results['clip']}")
    print("| clip | frames | ffmpeg decode+encode fps | animate fps | after start-up | "
          "animate / ffmpeg | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|---|")
    for name in ("short", "long"):
        r = results[name]
        print(f"| {name} | {r['animate']['frames']} | {r['ffmpeg']['fps']} | "
              f"{r['animate']['fps']} | {r['animate']['steady_fps']} | "
              f"{r['animate']['fps'] / r['ffmpeg']['fps']:.2f} | "
              f"{r['animate']['peak_rss_mib']} |")
    print(f"peak RSS growth long vs short: {100 * results['rss_growth']:+.1f} %")
    stages = results["long"]["animate"]["stages_ms"]
    print("per frame, busy ms by stage (long clip; stages in other threads overlap): "
          + ", ".join(f"{k} {v}" for k, v in stages.items()))


if __name__ == "__main__":
    main()
