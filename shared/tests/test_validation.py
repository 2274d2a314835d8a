"""The shared edge checks (C5, L5, L7): invisible and control characters refused, lines kept where asked."""
from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from marshmallow import Schema, ValidationError, fields

from ceres_shared.validation import INVISIBLE, VISIBLE, VISIBLE_LINES, JoinedLength, invisible_characters, line

REFUSED = ("Cc", "Cf", "Co", "Cs", "Zl", "Zp")
invisible = st.characters(categories=REFUSED)
visible = st.text(st.characters(exclude_categories=REFUSED), max_size=40)


class Person(Schema):
    nom = fields.Str(validate=line(100, 1))
    prenoms = fields.List(fields.Str(validate=line(60, 1)), validate=JoinedLength(200))


@given(visible, invisible, visible)
def test_any_invisible_or_control_character_is_refused_wherever_it_is(before, hidden, after):
    text = before + hidden + after
    with pytest.raises(ValidationError) as refused:
        VISIBLE(text)
    assert refused.value.messages == [INVISIBLE]
    if hidden not in "\n\r\t":
        with pytest.raises(ValidationError):
            VISIBLE_LINES(text)


@given(visible)
def test_visible_text_passes(text):
    assert VISIBLE(text) == text and invisible_characters(text) == []


@pytest.mark.parametrize("hidden", ["\u202e", "\u202d", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2066",
                                    "\u2069", "\ufeff", "\u00ad", "\x00", "\x1b", "\x7f", "\ue000", "\u2028"])
def test_the_named_tricks_are_refused(hidden):
    assert unicodedata.category(hidden) in REFUSED
    assert invisible_characters(f"Mar{hidden}tin") == [hidden]


def test_names_in_french_and_beyond_pass_and_lines_only_in_multiline_text():
    for name in ("Éloïse-Marie", "N'Guessan", "d’Hérouville", "Łukasz", "Ægir", "Nguyễn", "Zoë O’Brien"):
        assert VISIBLE(name) == name
    assert VISIBLE_LINES("Lundi.\r\nMardi\tmatin.") == "Lundi.\r\nMardi\tmatin."
    with pytest.raises(ValidationError):
        VISIBLE("Lundi.\nMardi.")


def test_a_schema_names_each_bad_field_in_french():
    errors = Person().validate({"nom": "Dur\u200band", "prenoms": ["A" * 60] * 4})
    assert errors == {"nom": [INVISIBLE], "prenoms": ["200 caractères au plus en tout."]}
    assert Person().validate({"nom": "x" * 101}) == {"nom": ["Entre 1 et 100 caractères."]}
    assert Person().validate({"nom": "Durand", "prenoms": ["A" * 60] * 3}) == {}
