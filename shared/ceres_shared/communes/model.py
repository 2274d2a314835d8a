"""A commune of the referential (C3) and the helpers every lookup shares."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

TYPES = ("COM", "COMD", "COMA", "ARM")
ZONES = ("metro", "drom", "com")
# A code shared by a commune and its commune déléguée (01015) answers with the commune first.
TYPE_PREFERENCE = {"COM": 0, "ARM": 1, "COMD": 2, "COMA": 3}


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    type: str
    departement: str
    region: str | None
    zone: str
    postcodes: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_until: date | None = None  # exclusive: the day the commune (or this name) stopped

    def valid_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_until is None or on < self.valid_until
        )

    @property
    def current(self) -> bool:
        return self.valid_until is None


def departement_of(code: str) -> str:
    """Département of an INSEE commune code: 3 digits overseas (97x, 98x), else 2 (Corsica 2A/2B)."""
    return code[:3] if code[:2] in ("97", "98") else code[:2]


def zone_of(departement: str) -> str:
    """metro, drom (971-974, 976) or com (975, 977, 978, 98x)."""
    if departement in ("971", "972", "973", "974", "976"):
        return "drom"
    if departement.startswith(("97", "98")):
        return "com"
    return "metro"


_SEPARATORS = re.compile(r"[\s\-'’‘`´.,/()_]+")
_SAINT = re.compile(r"\b(st|ste)\b")


def _strip(ch: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))


# Accented Latin letters to plain ones, computed once: str.translate is much faster than NFKD per call.
_PLAIN = {code: _strip(chr(code)) for code in range(0xC0, 0x250) if _strip(chr(code)) != chr(code)}
_PLAIN.update({ord("œ"): "oe", ord("Œ"): "oe", ord("æ"): "ae", ord("Æ"): "ae"})


def normalise(text: str) -> str:
    """Lower case, no accents, hyphens and apostrophes as spaces: "L'Abergement-Clémenciat" -> "l abergement
    clemenciat". "St"/"Ste" become "saint"/"sainte" as people type them."""
    plain = text.translate(_PLAIN).lower()
    if not plain.isascii():
        plain = _strip(plain)
    plain = _SEPARATORS.sub(" ", plain).strip()
    if "st" in plain:
        plain = _SAINT.sub(lambda m: "saint" if m.group(1) == "st" else "sainte", plain)
    return plain
