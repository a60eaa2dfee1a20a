"""Media discovery: the photos and videos under the paths a user gives (:func:`find_inputs`), and
which files are videos.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ganimate.errors import GanimateError
from ganimate.images import IMAGE_SUFFIXES

# Videos that are read (found in folders by :func:`find_inputs`, decoded by ffmpeg).
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".wmv",
                  ".flv", ".gif")


def find_inputs(sources: Sequence[str | os.PathLike]) -> list[tuple[Path, str]]:
    """(file, display path) of every photo and video under the sources, sorted; display paths are
    relative to the folder given (prefixed with its name when several sources are given)."""
    out: list[tuple[Path, str]] = []
    several = len(sources) > 1
    for src in sources:
        src = Path(src)
        if src.is_file():
            out.append((src, src.name))
        elif src.is_dir():
            prefix = f"{src.resolve().name}/" if several else ""
            for dirpath, dirnames, filenames in os.walk(src):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    p = Path(dirpath) / name
                    if p.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES:
                        out.append((p, prefix + p.relative_to(src).as_posix()))
        else:
            raise GanimateError(f"{src}: no such file or folder")
    seen: set[str] = set()
    unique = []
    for p, disp in out:
        if disp not in seen:
            seen.add(disp)
            unique.append((p, disp))
    return unique


def is_video(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES
