"""Names as the duplicate check and the search see them (C1): accents, case, hyphens, apostrophes and spaces
ignored; a French phonetic key so that small spelling variants (PH/F, C/K/QU, doubled letters, silent endings)
fall in the same block."""
from __future__ import annotations

import re
import unicodedata

_NOT_LETTER = re.compile(r"[^A-Z]+")
# Ligatures NFKD leaves alone.
_LIGATURES = str.maketrans({"Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss"})


def fold(text: str | None) -> str:
    """Upper case ASCII letters and single spaces: 'Éloïse-Marie  d'Hérouville' -> 'ELOISE MARIE D HEROUVILLE'."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    return " ".join(_NOT_LETTER.split(text)).strip()


# The key columns' widths: folding may lengthen a name (« ﬃ », « Œ » become two or three letters), and a key
# longer than its column is refused by PostgreSQL, not by SQLite (L5); a key cut there still finds the person.
NAME_KEY_MAX, GIVEN_KEY_MAX, DEDUP_KEY_MAX = 100, 200, 250


def name_key(text: str | None) -> str:
    """A family name with its separators dropped: 'Le Goff', 'LEGOFF' and 'le-goff' are one name."""
    return fold(text).replace(" ", "")[:NAME_KEY_MAX]


def given_names_key(prenoms: list[str] | None) -> str:
    """First names in their order, each folded: ['Jean-Pierre', 'Élie'] -> 'JEANPIERRE ELIE'."""
    return " ".join(k for k in (name_key(p) for p in prenoms or []) if k)[:GIVEN_KEY_MAX]


# Ordered rewrites of a folded word; the order matters (longer patterns first).
_PHONETIC_RULES = [
    (re.compile(r"PH"), "F"),
    (re.compile(r"G(?=[EIY])"), "J"),
    (re.compile(r"GU(?=[EIY])"), "G"),
    (re.compile(r"QU|Q"), "K"),
    (re.compile(r"SCH|SH|CH"), "X"),
    (re.compile(r"C(?=[EIY])"), "S"),
    (re.compile(r"CK|C"), "K"),
    (re.compile(r"(?<=[AEIOUY])S(?=[AEIOUY])"), "Z"),
    (re.compile(r"TH"), "T"),
    (re.compile(r"W"), "V"),
    (re.compile(r"Y"), "I"),
    (re.compile(r"EAU|AU"), "O"),
    (re.compile(r"AI|EI|ET$|EZ$|ER$"), "E"),
    (re.compile(r"(?<![KXS])H"), ""),
    (re.compile(r"[EAIOU]?N(?=[^AEIOUN]|$)"), "N"),
    (re.compile(r"[EAIOU]?M(?=[BP])"), "N"),
    (re.compile(r"(?<=.)[STXDZ]$"), ""),
    (re.compile(r"(?<=.)E$"), ""),
    (re.compile(r"(.)\1+"), r"\1"),
]


def phonetic(text: str | None) -> str:
    """A coarse French sound key of a name: 'Phillipe' and 'Philippe' -> 'FILIP'; 'Lefebvre'/'Lefèvre' differ
    only by one letter and are caught by the fuzzy score instead."""
    word = name_key(text)  # one word: 'Le Goff' and 'Legoff' sound alike
    for pattern, replacement in _PHONETIC_RULES:
        word = pattern.sub(replacement, word)
    return word


def given_names_phonetic(prenoms: list[str] | None) -> str:
    """Sorted, so that 'Henri Paul' and 'Paul Henri' share a key (swapped first names)."""
    return " ".join(sorted(p for p in (phonetic(x) for x in prenoms or []) if p))


def dedup_key(nom_naissance: str, prenoms: list[str]) -> str:
    """The blocking key stored and indexed on each record: sound of the birth name + sounds of the first names."""
    return f"{phonetic(nom_naissance)}|{given_names_phonetic(prenoms)}"[:DEDUP_KEY_MAX]
