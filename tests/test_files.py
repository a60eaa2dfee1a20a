"""files.py: the one same-file check (outputs must never overwrite their inputs) and the reasons
an output folder cannot be written."""

from __future__ import annotations

import os

import pytest

from ganimate.errors import GanimateError
from ganimate.files import same_file, unwritable_folder, write_text


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


def test_a_write_into_a_file_or_an_unwritable_folder_says_which(tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"x")
    assert unwritable_folder(tmp_path / "new" / "deeper") is None  # made on the way
    assert unwritable_folder(photo / "sub").startswith(f"{photo} is a file, not a folder")
    with pytest.raises(GanimateError, match="photo.jpg is a file, not a folder"):
        write_text(photo / "report.json", "{}")  # a writer that was not checked early
    assert not list(tmp_path.glob(".ganimate-probe-*"))  # the probe file is removed
    if os.path.isdir("/proc"):
        assert unwritable_folder("/proc").startswith("/proc is not writable (")
