"""Help pages (examples, brackets kept), -q anywhere, progress lines of long commands.
"""

from __future__ import annotations

import shutil
import sys

import pytest
from typer.testing import CliRunner

from ganimate.cli import app

runner = CliRunner()
GANIMATE = [sys.executable, "-m", "ganimate"]


def _all_commands(group, prefix=()):
    import typer.main

    click_group = typer.main.get_command(group) if not prefix else group
    yield prefix
    for name, cmd in getattr(click_group, "commands", {}).items():
        yield from _all_commands(cmd, (*prefix, name))


KNOWN_PHRASES = {
    ("aus",): "table, csv or json [table on a terminal, csv otherwise];",
    ("eval", "model"): "needs the [eval]",
    ("animate", "image"): "[linear; cosine with",
    ("train",): "Generator base channels [64].",
}


def test_every_help_page_has_examples_and_keeps_brackets():
    pages = list(_all_commands(app))
    assert len(pages) >= 13
    for words in pages:
        result = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, words
        text = result.stdout
        assert "Examples:" in text, words
        example = text.split("Examples:", 1)[1]
        assert f"ganimate {' '.join(words)}".strip() in example, (words, example)
        if words in KNOWN_PHRASES:
            assert KNOWN_PHRASES[words] in " ".join(text.split()), (words, text)


def test_quiet_anywhere(tmp_path, monkeypatch, capfd):
    from ganimate import cli

    assert cli.hoist_global_options(["aus", "x.jpg", "-q", "--max-megapixels", "300", "--",
                                     "-q"]) == ["-q", "--max-megapixels", "300", "aus", "x.jpg",
                                                "--", "-q"]
    monkeypatch.setattr(sys, "argv", ["ganimate", "synthetic", str(tmp_path / "s"), "--count",
                                      "4", "--size", "16", "-q"])
    with pytest.raises(SystemExit) as exc:
        cli.main()
    assert exc.value.code in (0, None), capfd.readouterr().err
    assert (tmp_path / "s").is_dir()


def test_train_without_a_terminal_logs_progress_lines(tiny_train_args, trained_run, tmp_path,
                                                      monkeypatch):
    from ganimate import progress

    assert progress.LOG_INTERVAL <= 60  # at least one line a minute
    monkeypatch.setattr(progress, "LOG_INTERVAL", 0.0)
    result = runner.invoke(app, ["train", str(trained_run.data), "-o", str(tmp_path / "run"),
                                 *tiny_train_args, "--steps", "3"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("training: ")]
    assert [ln.split()[1] for ln in lines] == ["0/3", "1/3", "2/3", "3/3"]
    assert "elapsed, eta" in lines[1]


def test_edit_image_on_a_folder_reports_progress_in_photos(kit, tmp_path, monkeypatch):
    from ganimate import progress

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        shutil.copy(kit.face, folder / name)
    monkeypatch.setattr(progress, "LOG_INTERVAL", 0.0)  # a line per photo instead of per 30 s
    result = runner.invoke(app, ["edit", "image", str(folder), "-e", "happy", "-c", str(kit.g17),
                                 "-o", str(tmp_path / "out"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("editing photos: ")]
    assert [ln.split()[2] for ln in lines] == ["1/3", "2/3", "3/3"], result.stderr
    assert lines[-1].endswith(", c.jpg")
    quiet = runner.invoke(app, ["-q", "edit", "image", str(folder), "-e", "happy", "-c",
                                str(kit.g17), "-o", str(tmp_path / "out2"), "--device", "cpu"])
    assert quiet.exit_code == 0 and "editing photos" not in quiet.stderr


def _help(*words: str) -> str:
    result = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, words
    return " ".join(result.stdout.split())


@pytest.mark.parametrize("words", [("edit", "image"), ("animate", "video"), ("animate", "image"),
                                   ("edit", "sweep"), ("eval", "photos")])
def test_engine_help_describes_todays_warp(words):
    """The warp draws teeth, gums and tongue (photographed upper teeth on photos), shades folds
    and a smile's skin (tests/engines/test_mouth.py, test_geometry.py and test_skin.py check that
    it does); its help must not say otherwise."""
    text = " ".join(_help(*words).split())
    assert "no teeth" not in text and "dark mouth" not in text, text
    assert "draws teeth, gums and tongue" in text and "a real person's upper teeth" in text, text
    assert "shades like a fold" in text and "real smiles' shading" in text, text


def test_engine_docstrings_describe_todays_warp():
    from ganimate.engines import geometry, mouth, warp

    for module in (geometry, mouth, warp):
        doc = " ".join(module.__doc__.split())
        assert "draws no teeth" not in doc and "No tongue or teeth are drawn" not in doc, module
        assert "teeth" in doc, module


def test_animate_video_says_its_default_ramp_and_hold_first():
    """The default alpha goes 0 -> 1 over the clip: the first help line says so and names --hold,
    and the help's examples and the README show --hold beside the default."""
    from pathlib import Path

    result = runner.invoke(app, ["animate", "video", "--help"], env={"COLUMNS": "200"})
    body = result.stdout.split("Options")[0]
    first = " ".join(body.split("\n\n")[1].split())  # the paragraph after the usage line
    assert "0 -> 1" in first and "--hold" in first, first
    example = result.stdout.split("Examples:", 1)[1]
    assert "-e happy --hold" in example and "0 -> happy over the clip" in example
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "single_face.mp4 -e surprise --hold" in readme
    assert "first half" in readme  # what the default ramp looks like, said where it is shown


def test_demo_model_guide_uses_plain_commands():
    """Training the demo model is described as commands anyone runs on a GPU machine, not as the
    call syntax of a remote-execution helper that users do not have."""
    from pathlib import Path

    root = Path(__file__).parents[2] / "examples" / "demo_model"
    for path in [root / "README.md", *root.glob("*.sh"), *root.glob("*.py")]:
        text = path.read_text()
        for phrase in ("run(kind", "carry=[", "device tool", "lent GPU", "lent device"):
            assert phrase not in text, (path.name, phrase)
    guide = (root / "README.md").read_text()
    for phase in ("start", "resume", "final"):
        assert f"examples/demo_model/gpu_chunk.sh {phase}" in guide
