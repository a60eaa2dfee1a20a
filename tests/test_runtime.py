"""What ganimate changes in its own process (ganimate.runtime): each change happens only when
asked for, and can be undone."""

from __future__ import annotations

import os
import subprocess
import sys

from ganimate import runtime


def test_importing_ganimate_changes_no_environment_variable():
    code = ("import os; before = dict(os.environ); import ganimate, ganimate.api, "
            "ganimate.faces.mesh; print(sorted(set(os.environ.items()) ^ set(before.items())))")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.strip() == "[]"


def test_the_command_line_asks_for_one_blas_thread_before_numpy_loads():
    code = ("import sys; from ganimate.cli import entry; entry.app = lambda **kw: None; "
            "sys.argv = ['ganimate']; entry.main(); import os; "
            "print(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.split() == ["1", "False"]


def test_limit_blas_threads_keeps_the_users_choice_and_undoes(monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    undo = runtime.limit_blas_threads()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    undo()
    assert "OPENBLAS_NUM_THREADS" not in os.environ
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    undo = runtime.limit_blas_threads()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "3"
    undo()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "3"


def test_deferred_imports_load_on_first_use_and_undo_removes_them():
    code = (  # json: a real module the fresh interpreter has not imported yet
        "import sys; from ganimate.runtime import defer_imports; "
        "undo = defer_imports(['json', 'json.tool']); "
        "stand_in = type(sys.modules['json']).__name__; "
        "import json; dumped = json.dumps([1]); "
        "print(stand_in, type(sys.modules['json']).__name__, dumped); "
        "undo(); print('json' in sys.modules); "
        "undo2 = defer_imports(['csv']); undo2(); print('csv' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["_Deferred", "module", "[1]", "True", "False"]


def test_a_native_log_window_gives_fd_2_back(capfd):
    before = os.fstat(2).st_ino
    with runtime.native_logs.window():
        os.write(2, b"I0000 00:00:1718000000.5 17 gl_context.cc:357] GL version\n")
        assert os.fstat(2).st_ino != before  # stderr goes through the filter's pipe
    os.write(2, b"after\n")
    assert os.fstat(2).st_ino == before
    assert capfd.readouterr().err == "after\n"


def test_a_window_opened_as_the_interpreter_exits_does_not_hang_it():
    """A clip's planner left open when a script fails is closed by the garbage collector at
    exit, and closing mediapipe's graphs opens a native-log window: with no thread to start,
    that waited for ever."""
    code = ("from ganimate.runtime import native_logs\n"
            "def planner():\n"
            "    try:\n"
            "        yield 1\n"
            "    finally:\n"
            "        with native_logs.window():\n"
            "            pass\n"
            "plans = planner(); next(plans)\n"
            "raise SystemExit(3)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60)
    assert out.returncode == 3
