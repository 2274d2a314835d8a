"""C1's pure parts, no server: which birth dates are close, which places agree, when the caller typed the whole
identity (M1: only then may a centre learn the number)."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from ceres_candidates.domain.countries import FRANCE
from ceres_candidates.domain.names import given_names_key, name_key
from ceres_candidates.service_layer.duplicates import _close_dates, _same_place, is_exact

BORN = date(1990, 3, 1)


@pytest.mark.parametrize("other,close", [
    (date(1990, 3, 1), True),
    (date(1990, 3, 7), True),    # one digit mistyped
    (date(1980, 3, 1), True),
    (date(1990, 1, 3), True),    # day and month swapped
    (date(1990, 3, 17), False),  # two digits
    (date(1991, 4, 1), False),
    (date(1991, 1, 3), False),   # swapped, but not the same year
])
def test_C1_close_birth_dates(other, close):
    assert _close_dates(BORN, other) is close
    assert _close_dates(other, BORN) is close


def test_C1_places_agree_unless_both_known_and_different():
    row = SimpleNamespace(birth_country_code=FRANCE, birth_commune_code="01053")
    assert _same_place(row, FRANCE, "01053") and _same_place(row, None, None) and _same_place(row, FRANCE, None)
    assert not _same_place(row, FRANCE, "69123")
    assert not _same_place(row, "99109", None)
    assert _same_place(SimpleNamespace(birth_country_code=None, birth_commune_code=None), "99109", None)


def record(**kw):
    base = dict(birth_date=BORN, nom_key=name_key("Le Goff"), prenoms_key=given_names_key(["Marie", "Élise"]),
                birth_country_code=FRANCE, birth_commune_code="01053")
    return SimpleNamespace(**{**base, **kw})


TYPED = dict(nom_naissance="LE-GOFF", prenoms=["marie", "Elise"], birth_date=BORN, birth_country_code=FRANCE,
             birth_commune_code="01053")


def test_C1_M1_the_whole_identity_typed_accents_case_and_separators_aside():
    assert is_exact(record(), **TYPED)
    assert is_exact(record(birth_commune_code=None), **{**TYPED, "birth_commune_code": None})  # none recorded


@pytest.mark.parametrize("change", [
    dict(birth_date=date(1990, 3, 7)), dict(nom_naissance="LEGOF"), dict(prenoms=["Marie"]),
    dict(prenoms=["Élise", "Marie"]), dict(birth_commune_code=None), dict(birth_commune_code="69123"),
    dict(birth_country_code=None)])
def test_C1_M1_anything_short_of_it_is_not_exact(change):
    assert not is_exact(record(), **{**TYPED, **change})


def test_L3_a_record_without_a_name_key_is_never_exact():
    assert not is_exact(record(nom_key=""), **{**TYPED, "nom_naissance": "---"})
