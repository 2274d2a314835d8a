"""French wording helpers for documents: dates, civilities, person lines, lists, numbers.

Pure functions, no locale: the process locale is not reliable in containers, and the
wording rules are ours (rule P10: « né le 1 mars 1990 », never « 1er »).
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

# U+202F: the thousands separator recommended for French, never broken across lines.
NARROW_NBSP = "\u202f"

# A moment (aware datetime) is dated as in France: a request sent at 23:30 UTC in November was sent « le » next day.
PARIS = ZoneInfo("Europe/Paris")

_MALE = {"m", "h", "homme", "masculin", "monsieur", "mr", "m.", "male", "1"}
_FEMALE = {"f", "femme", "feminin", "féminin", "madame", "mme", "female", "2"}


def _as_date(value: date | datetime | str) -> date:
    if isinstance(value, str) and "T" in value:
        value = datetime.fromisoformat(value.strip())
    if isinstance(value, datetime):
        return value.astimezone(PARIS).date() if value.tzinfo is not None else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value.strip())  # contexts often come from JSON: ISO dates (datetimes above)
    raise TypeError(f"expected a date, got {type(value).__name__}")


def date_fr(value: date | datetime | str) -> str:
    """« 1 mars 1990 »: day without leading zero and without « 1er » (rule P10), month in full.

    Accepts a date, a datetime (time ignored) or an ISO string.
    """
    d = _as_date(value)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def date_numeric_fr(value: date | datetime | str) -> str:
    """« 23/11/2026 », the day in France for a moment."""
    return f"{_as_date(value):%d/%m/%Y}"


def date_fr_long(value: date | datetime | str, weekday: bool = True) -> str:
    """« jeudi 1 mars 1990 » (weekday in lower case, as French writes it); same day rule as date_fr (P10)."""
    d = _as_date(value)
    text = date_fr(d)
    return f"{WEEKDAYS[d.weekday()]} {text}" if weekday else text


def _gender(gender: str) -> str:
    key = str(gender).strip().lower()
    if key in _MALE:
        return "M"
    if key in _FEMALE:
        return "F"
    raise ValueError(f"unknown gender code: {gender!r} (expected M/F)")


def civilite(gender: str) -> str:
    """« Monsieur » or « Madame » from a gender code (M/H/homme… or F/femme…)."""
    return "Monsieur" if _gender(gender) == "M" else "Madame"


def civilite_courte(gender: str) -> str:
    """Abbreviated civility: « M. » or « Mme » (no dot after Mme, per French typography)."""
    return "M." if _gender(gender) == "M" else "Mme"


def ne_e(gender: str) -> str:
    """« né » or « née », agreeing with the person (rule P10)."""
    return "né" if _gender(gender) == "M" else "née"


def _clean(text: str | None) -> str:
    return " ".join(str(text).split()) if text else ""


def birth_place_fr(place: str | None, country: str | None = None) -> str:
    """« Lyon (FRANCE) »: place as given, country in upper case between brackets; '' if none."""
    place, country = _clean(place), _clean(country).upper()
    if place and country:
        return f"{place} ({country})"
    return place or country


def person_line(last_name: str, first_name: str, gender: str,
                birth_date: date | datetime | str | None = None,
                birth_place: str | None = None, birth_country: str | None = None) -> str:
    """« Monsieur CHEVALIER Henri, né le 1 mars 1990 à Lyon (FRANCE) » (rule P10).

    Last name in upper case (accents kept: « BÉRANGER »), first name as given; the birth
    part is left out when unknown, the place part when there is no place nor country.
    """
    line = f"{civilite(gender)} {_clean(last_name).upper()} {_clean(first_name)}".rstrip()
    if birth_date:
        line += f", {ne_e(gender)} le {date_fr(birth_date)}"
        place = birth_place_fr(birth_place, birth_country)
        if place:
            line += f" à {place}"
    return line


def join_fr(items: Iterable[object], last: str | None = None) -> str:
    """Join with « , »: ["214r", "214s"] -> « 214r, 214s ».

    With ``last="et"``: « a, b et c » (no comma before « et » in French).
    Empty items are skipped.
    """
    parts = [str(i) for i in items if i is not None and str(i) != ""]
    if last and len(parts) > 1:
        return f"{', '.join(parts[:-1])} {last} {parts[-1]}"
    return ", ".join(parts)


def number_fr(value: int | float | Decimal | str, decimals: int | None = None) -> str:
    """« 12 345 » with a narrow no-break space (U+202F) between thousands, « 1 234,50 » with decimals.

    ``decimals=None`` keeps integers as they are and prints other numbers as given.
    """
    number = Decimal(str(value))
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    text = format(abs(number), "f")
    whole, _, fraction = text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = sign + NARROW_NBSP.join(groups)
    return f"{out},{fraction}" if fraction else out


# Exposed to Jinja templates as filters by the renderer.
FILTERS = {
    "date_fr": date_fr,
    "date_fr_long": date_fr_long,
    "civilite": civilite,
    "civilite_courte": civilite_courte,
    "ne_e": ne_e,
    "join_fr": join_fr,
    "number_fr": number_fr,
    "birth_place_fr": birth_place_fr,
}
