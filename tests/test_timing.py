"""Per-stage timings of the video path (ganimate.timing, issue 21's first measure)."""

from __future__ import annotations

import contextvars
import logging
import threading
import time

from ganimate.timing import StageTimes, measuring, stage, timed


def test_stage_adds_only_inside_measuring_and_reaches_threads_run_in_a_copy_of_the_context():
    times = StageTimes()
    with stage("decode"):  # nobody measuring: nothing recorded, no error
        time.sleep(0.01)
    assert times.decode == 0.0
    with measuring(times):
        with stage("decode"):
            time.sleep(0.02)
        def work():
            with stage("encode"):
                time.sleep(0.02)
        worker = threading.Thread(target=contextvars.copy_context().run, args=(work,))
        worker.start()
        worker.join()
    assert 0.015 < times.decode < 1.0 and 0.015 < times.encode < 1.0
    assert times.field == 0.0
    assert set(times.per_frame_ms(2)) == {"decode", "encode"}
    assert times.summary(2).startswith("per frame: decode ")


def test_timed_counts_the_producer_not_the_consumer():
    def slow():
        for i in range(3):
            time.sleep(0.02)
            yield i
    times = StageTimes()
    with measuring(times):
        for _ in timed(slow(), "decode"):
            time.sleep(0.05)  # the consumer's time is not decode's
    assert 0.05 < times.decode < 0.12


def test_animate_video_reports_where_a_frame_goes(media, tmp_path, caplog):
    """The warp on a real clip: every stage of the frame path measured, the line logged (-v)."""
    from ganimate.animation import AnimateConfig, animate_video
    from ganimate.animation.pipeline import edit_workers
    from ganimate.engines import WarpEngine
    from ganimate.targets import target_spec

    engine = WarpEngine()
    spec = target_spec(expression="surprise", au_names=engine.au_names)
    with caplog.at_level(logging.DEBUG, logger="ganimate"):
        result = animate_video(media / "video" / "single_face.mp4", tmp_path / "out.mp4",
                               engine, spec)
    ms = result.stages.per_frame_ms(result.frames)
    for name in ("decode", "landmarks", "aus", "field", "sampling", "mouth", "encode"):
        assert ms.get(name, 0) > 0, (name, ms)
    assert "model" not in ms and "paste" not in ms  # the warp runs no generator
    # busy time of the editing threads' stages fits in the run's wall time times their number
    edit = sum(ms[n] for n in ("field", "sampling", "mouth")) * result.frames / 1000
    assert edit < result.seconds * edit_workers(engine, AnimateConfig())
    assert any("per frame: decode" in r.getMessage() for r in caplog.records)
