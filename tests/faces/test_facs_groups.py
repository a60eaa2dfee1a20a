"""FACS's upper/lower face grouping of the AUs: every AU named in exactly one group."""

from __future__ import annotations

import pytest

from ganimate.errors import GanimateError
from ganimate.faces import AU_DESCRIPTIONS, AU_NAMES, FACS_GROUPS, SCANNED_EXTRA_AUS, facs_group


def test_every_au_is_in_exactly_one_group():
    grouped = [au for aus in FACS_GROUPS.values() for au in aus]
    assert sorted(grouped) == sorted(AU_DESCRIPTIONS)  # no AU missing, none twice
    assert set(AU_NAMES) | set(SCANNED_EXTRA_AUS) == set(grouped)
    assert list(FACS_GROUPS) == ["upper", "lower"]


def test_the_groups_in_the_order_the_studio_shows_its_sliders():
    upper = ["AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU45"]
    lower = ["AU09", "AU10", "AU12", "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26",
             "AU16", "AU18", "AU22", "AU24", "AU27"]
    assert [au for au in AU_DESCRIPTIONS if facs_group(au) == "upper"] == upper
    assert [au for au in AU_DESCRIPTIONS if facs_group(au) == "lower"] == lower


def test_an_unknown_au_is_in_no_group():
    with pytest.raises(GanimateError, match="'AU99' is in no FACS group"):
        facs_group("AU99")
