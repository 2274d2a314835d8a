"""Checks the services' schemas share at the HTTP edge: text users type holds no invisible or control character
(C5), and every text is bounded by the column it is stored in (one set of limits for PostgreSQL and SQLite)."""
from __future__ import annotations

import unicodedata

from marshmallow import ValidationError, validate

INVISIBLE = "Ce champ contient des caractères invisibles ou de contrôle non autorisés."
# Cf: format characters (zero-width spaces and joiners U+200B–U+200F, bidi embeddings and overrides U+202A–U+202E
# and isolates U+2066–U+2069, U+FEFF...); Cc: control characters; Co/Cs: private use and lone surrogates;
# Zl/Zp: the line and paragraph separators U+2028/U+2029.
_REFUSED = frozenset({"Cf", "Cc", "Co", "Cs", "Zl", "Zp"})
_LINE_BREAKS = frozenset("\n\r\t")  # a multi-line text (comments, reasons) keeps its lines


def invisible_characters(text: str, *, multiline: bool = False) -> list[str]:
    """The characters of `text` no one should type in a field: what they show is not what is stored."""
    return [c for c in text
            if unicodedata.category(c) in _REFUSED and not (multiline and c in _LINE_BREAKS)]


class VisibleText(validate.Validator):
    """marshmallow validator: refuse invisible and control characters (C5: names and free text)."""

    def __init__(self, *, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value):
        if isinstance(value, str) and invisible_characters(value, multiline=self.multiline):
            raise ValidationError(INVISIBLE)
        return value


VISIBLE = VisibleText()
VISIBLE_LINES = VisibleText(multiline=True)


def length(max_len: int, min_len: int | None = None) -> validate.Length:
    """A French length check: the column's width as the maximum."""
    if min_len:
        return validate.Length(min=min_len, max=max_len, error=f"Entre {min_len} et {max_len} caractères.")
    return validate.Length(max=max_len, error=f"{max_len} caractères au plus.")


def count(max_items: int, what: str, min_items: int | None = None) -> validate.Length:
    """A French bound on a list's count (lists stored as JSON have no column to limit them)."""
    if min_items:
        return validate.Length(min=min_items, max=max_items, error=f"De {min_items} à {max_items} {what}.")
    return validate.Length(max=max_items, error=f"{max_items} {what} au plus.")


def line(max_len: int, min_len: int | None = None) -> list:
    """Validators of a one-line text field (a name, a label) stored in a String(max_len) column."""
    return [length(max_len, min_len), VISIBLE]


def lines(max_len: int, min_len: int | None = None) -> list:
    """Validators of a multi-line text field (comments, reasons)."""
    return [length(max_len, min_len), VISIBLE_LINES]


class JoinedLength(validate.Validator):
    """A list of texts stored joined (prénoms in one String(n) column elsewhere): the joined text must fit."""

    def __init__(self, max_len: int, separator: str = " "):
        self.max_len, self.separator = max_len, separator

    def __call__(self, value):
        if isinstance(value, list) and len(self.separator.join(str(v) for v in value)) > self.max_len:
            raise ValidationError(f"{self.max_len} caractères au plus en tout.")
        return value
