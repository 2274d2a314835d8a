"""The service's one clock: every rule that depends on "today" reads it here, so tests can fix the date (S4, S5,
B2) without patching the interpreter's clock under the broker and token libraries."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_fixed: datetime | None = None


def now() -> datetime:
    return _fixed if _fixed is not None else datetime.now(timezone.utc)


def today() -> date:
    """Today in Paris: deadlines are counted in French calendar days."""
    return now().astimezone(PARIS).date()


def fix(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (aware), or release it with None. For tests and demos only."""
    global _fixed
    if moment is not None and moment.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    _fixed = moment
