"""mediapipe's graphs built and called with their C++ log lines (glog/absl, TFLite) kept off
stderr (:data:`ganimate.runtime.native_logs`), and the package imported with matplotlib deferred
(mediapipe imports it, and it is slow to import).

Shared by the face mesh (:mod:`ganimate.faces.mesh`) and the hand tracker
(:mod:`ganimate.faces.hands`).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from ganimate.runtime import defer_imports, native_logs

T = TypeVar("T")

# mediapipe's package imports its drawing helpers, which import pyplot at the top and only use
# it to plot: ~0.65 s of a ~1 s import, more than a video's first frames may take; and its audio
# tasks import sounddevice (PortAudio) at the top, only to record: 32 ms more.
_DEFERRED = ("matplotlib", "matplotlib.pyplot", "sounddevice")


_IMPORTING = threading.Lock()


def import_mediapipe():
    """mediapipe, imported with matplotlib deferred (:func:`ganimate.runtime.defer_imports`):
    anything that really plots still gets the real pyplot on first use. Thread-safe: a thread
    that asks while another imports it waits (``sys.modules`` holds the module half-made
    meanwhile: `animate video`'s teeth scan and planner start together)."""
    with _IMPORTING:
        if "mediapipe" in sys.modules:
            return sys.modules["mediapipe"]
        defer_imports(_DEFERRED)
        import mediapipe

        return mediapipe


def quiet_call(call: Callable[..., T], *args) -> T:
    """``call(*args)`` with mediapipe's native log lines kept off stderr."""
    with native_logs.window():
        return call(*args)


def warm_graph(factory: Callable[..., T], **options) -> T:
    """A mediapipe graph, built and run once on a blank image in one window: it opens its
    calculators (which log) in its own threads, and is only sure to be done once an image is
    through."""
    with native_logs.window():
        graph = factory(**options)
        graph.process(np.zeros((64, 64, 3), np.uint8))
    return graph


