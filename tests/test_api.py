"""The Python front door (ganimate.api): every example in its docstrings and in docs/api.md runs,
and the functions take arrays, PIL images and paths and refuse what they cannot use."""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import ganimate
from ganimate import api
from ganimate.errors import GanimateError

ROOT = Path(__file__).resolve().parents[1]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def test_every_docstring_example_runs():
    result = doctest.testmod(api, optionflags=FLAGS)
    assert result.failed == 0 and result.attempted >= 12


def test_every_example_of_the_api_page_runs():
    result = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False,
                              optionflags=FLAGS)
    assert result.failed == 0 and result.attempted >= 15


def test_the_functions_are_at_the_top_with_their_examples():
    code = ("import sys, pydoc, ganimate; text = pydoc.render_doc(ganimate.edit_image); "
            "print('>>> ' in text, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["True", "True"]
    for name in ("edit_image", "animate_video", "read_aus", "load_engine"):
        assert getattr(ganimate, name) is getattr(api, name)
        assert ">>> " in getattr(api, name).__doc__


def test_importing_the_package_loads_nothing_heavy():
    code = ("import sys, ganimate; print([m for m in ('numpy', 'torch', 'cv2', 'mediapipe') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture(scope="module")
def portrait(media) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(media / "faces" / "london" / "neutral" / "001.jpg").convert("RGB"))


def test_an_rgba_array_keeps_its_alpha_and_the_edit_matches_the_rgb_one(portrait):
    warp = ganimate.load_engine()
    alpha = np.tile(np.arange(portrait.shape[1], dtype=np.uint8), (portrait.shape[0], 1))
    rgba = np.dstack([portrait, alpha])
    out = ganimate.edit_image(rgba, "surprise", engine=warp)
    assert out.shape == rgba.shape and np.array_equal(out[..., 3], alpha)
    assert np.array_equal(out[..., :3], ganimate.edit_image(portrait, "surprise", engine=warp))
    assert not np.array_equal(out[..., :3], portrait)


def test_a_pil_image_and_a_path_give_the_array_edit(portrait, media):
    from PIL import Image

    path = media / "faces" / "london" / "neutral" / "001.jpg"
    from_array = ganimate.edit_image(portrait, aus={"AU12": 0.9})
    assert np.array_equal(ganimate.edit_image(Image.open(path), aus={"AU12": 0.9}), from_array)
    assert np.array_equal(ganimate.edit_image(path, aus=["AU12=0.9"]), from_array)


@pytest.mark.parametrize(("image", "aus", "words"), [
    (np.zeros((64, 64, 3), np.float32), {"AU12": 0.5}, "uint8"),
    (np.zeros((64, 64, 2), np.uint8), {"AU12": 0.5}, "shape"),
    ("no/such/photo.jpg", {"AU12": 0.5}, "no such file"),
    (np.zeros((64, 64, 3), np.uint8), None, "nothing to change"),
    (np.zeros((64, 64, 3), np.uint8), "AU12=0.5", "give a dict"),
    (np.zeros((64, 64, 3), np.uint8), {"AU12": 1.5}, "[0, 1]"),
    (np.zeros((64, 64, 3), np.uint8), {"AU12": 0.5}, "no face"),
])
def test_bad_input_is_one_error_that_names_the_fix(image, aus, words):
    with pytest.raises(GanimateError, match=None) as err:
        ganimate.edit_image(image, aus=aus)
    assert words in str(err.value)
    assert "--" not in str(err.value)  # no command-line option named to a Python caller


def test_read_aus_of_an_array_matches_the_file(portrait, media):
    path = media / "faces" / "london" / "neutral" / "001.jpg"
    from_file, from_array = ganimate.read_aus(path), ganimate.read_aus(portrait)
    assert len(from_file) == len(from_array) == 1
    assert from_file[0].aus == pytest.approx(from_array[0].aus, abs=1e-4)
    assert set(from_file[0].aus) == set(ganimate.faces.AU_NAMES)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"expression": "hapy"}, "expression 'hapy': unknown expression"),
    ({"expression": "happy", "engine": "wrap"}, "engine 'wrap': choose one of"),
])
def test_errors_name_the_python_parameter_not_the_command_line_option(kwargs, words):
    with pytest.raises(GanimateError) as err:
        ganimate.edit_image(np.zeros((64, 64, 3), np.uint8), **kwargs)
    assert str(err.value).startswith(words) and "--" not in str(err.value)
