"""The README works for anyone with the clone: its examples name only files that ship with the
project, never the data folder beside our checkouts, and CI runs exactly its test command."""

from __future__ import annotations

import re
import shlex

from conftest import ROOT

README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```bash\n(.*?)```", README, flags=re.S)
SHIPPED = ("tests/", "ganimate/", "examples/", "docs/", "benchmarks/")


def _words(block: str) -> list[str]:
    text = block.replace("\\\n", " ").replace("$MODEL", "")
    words = []
    for line in text.splitlines():
        words += shlex.split(line.split(" # ")[0], comments=True)
    return words


def test_readme_has_examples():
    assert len(BLOCKS) >= 6


def test_examples_name_only_files_that_ship():
    named = [w.split("=", 1)[-1] for b in BLOCKS for w in _words(b)]
    inputs = [w for w in named if w.startswith(SHIPPED)]
    assert len(inputs) >= 10, inputs
    missing = [w for w in inputs if not (ROOT / w).exists()]
    assert not missing, f"README examples name files the clone does not have: {missing}"
    assert not [w for w in named if "shared/" in w], "README examples use ../shared"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    test_block = next(b for b in BLOCKS if "pytest" in b).strip()
    assert test_block in ci.splitlines()


def test_readme_pictures_ship():
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert "docs/studio-photo.png" in pictures and "docs/studio-clip.png" in pictures
    assert [p for p in pictures if not (ROOT / p).is_file()] == []
