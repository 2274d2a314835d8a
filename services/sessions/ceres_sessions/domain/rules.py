"""Date rules of sessions, each citing its id in docs/domain.md."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time

from ..clock import PARIS

DEFAULT_HOUR = time(8, 0)  # S2
DTE_MONTHS = 3  # S4
CONVOCATION_MONTHS = 1  # S4
PROLONGATION_MONTHS = 12  # S1
PROLONGATION_MONTHS_CFA_CRP = 24  # S1
HABILITATION_EXTENSION_MONTHS = 24  # S7
LONG_PROLONGATION_TYPES = frozenset({"CFA", "CRP"})


def add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def at_eight(day: date) -> datetime:
    """S2: a day's default time is 08:00 in Paris, never the moment of creation."""
    return datetime.combine(day, DEFAULT_HOUR, tzinfo=PARIS)


def paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def dte_deadline(starts_on: date) -> date:
    """S4: last day to request the DTE."""
    return add_months(starts_on, -DTE_MONTHS)


def convocation_deadline(starts_on: date) -> date:
    """S4: last day to convoke the candidates."""
    return add_months(starts_on, -CONVOCATION_MONTHS)


def prolongation_months(type_centre: str | None) -> int:
    """S1: 12 months after the titre's end of validity in general, 24 for CFA and CRP."""
    return PROLONGATION_MONTHS_CFA_CRP if (type_centre or "").upper() in LONG_PROLONGATION_TYPES else PROLONGATION_MONTHS


def last_session_day(end_of_validity: date | None, type_centre: str | None, prolongation_until: date | None = None):
    """S1: the last day a session of the titre may be held (None: the titre has no end)."""
    if end_of_validity is None:
        return None
    last = add_months(end_of_validity, prolongation_months(type_centre))
    return max(last, prolongation_until) if prolongation_until else last


def habilitation_effective_until(valid_until: date, end_of_validity: date | None) -> date:
    """S7: a juré habilité until the titre's end of validity stays habilité 24 more months (the screen still shows
    the original end)."""
    if end_of_validity is not None and valid_until >= end_of_validity:
        return add_months(end_of_validity, HABILITATION_EXTENSION_MONTHS)
    return valid_until


@dataclass(frozen=True)
class Period:
    starts_on: date
    ends_on: date

    def covers(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on
