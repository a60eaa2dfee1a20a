"""files.py: the one same-file check (outputs must never overwrite their inputs)."""

from __future__ import annotations

import os

from ganimate.files import same_file


def test_same_file_sees_links_other_spellings_and_outputs_to_be(tmp_path):
    a = tmp_path / "a.mp4"
    a.write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    assert same_file(a, tmp_path / "sub" / ".." / "a.mp4")  # another spelling of one path
    os.link(a, tmp_path / "hard.mp4")
    assert same_file(tmp_path / "hard.mp4", a)  # two names of one file
    os.symlink(a, tmp_path / "soft.mp4")
    assert same_file(a, tmp_path / "soft.mp4")
    b = tmp_path / "b.mp4"
    b.write_bytes(b"x")
    assert not same_file(a, b)  # same content, different files
    assert not same_file(a, tmp_path / "missing.mp4")
    assert same_file(tmp_path / "new.mp4", tmp_path / "sub" / ".." / "new.mp4")  # neither exists
