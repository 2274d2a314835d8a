"""The dashboard's counts (S10), kept per (month of the start, département, région, status) in `session_counts`.

Every change of a session row that the ORM flushes — creation, a workflow step, a postponement, a mass
operation, a site moving to another département — goes through `_count_flushed`, an `after_flush` listener: it
takes the row's old contribution away and adds the new one, in the same transaction. So the counts are exact
without a trigger, on PostgreSQL and SQLite alike. Bulk UPDATE statements on these columns would bypass it: the
service issues none (handlers set the attributes instead).

Months are Paris months, like the dashboard's window; a naive datetime (SQLite gives them back so) is read as the
Paris wall clock, which is how `ExamSession` stores them (see its validator).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import event, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..clock import PARIS
from ..models import ExamSession, SessionCount

KEY_ATTRIBUTES = ("starts_at", "departement", "region", "status", "dte_requested_at", "under_relaxation")
MEASURES = ("sessions", "dte_requests", "relaxed")
_TABLE = SessionCount.__table__


def month_of(moment: datetime) -> date:
    local = moment if moment.tzinfo is None else moment.astimezone(PARIS)
    return local.date().replace(day=1)


def _contribution(values: dict) -> tuple[tuple, tuple[int, int, int]]:
    key = (month_of(values["starts_at"]), values["departement"], values["region"], values["status"])
    return key, (1, int(values["dte_requested_at"] is not None), int(bool(values["under_relaxation"])))


def _old_and_new(obj) -> tuple[dict, dict] | None:
    """The row's key attributes before and after this flush; None when none of them changed."""
    state = inspect(obj)
    old, new, changed = {}, {}, False
    for name in KEY_ATTRIBUTES:
        history = state.attrs[name].history
        if history.added or history.deleted:  # active_history on these columns: the old value is loaded
            changed = True
            old[name] = history.deleted[0] if history.deleted else None
            new[name] = history.added[0] if history.added else None
        else:
            old[name] = new[name] = getattr(obj, name)
    return (old, new) if changed else None


def _add(deltas: dict, values: dict, sign: int) -> None:
    key, measures = _contribution(values)
    row = deltas[key]
    for i, value in enumerate(measures):
        row[i] += sign * value


def _count_flushed(session: Session, _flush_context) -> None:
    deltas: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    for obj in session.new:
        if isinstance(obj, ExamSession):
            _add(deltas, {name: getattr(obj, name) for name in KEY_ATTRIBUTES}, +1)
    for obj in session.dirty:
        if isinstance(obj, ExamSession):
            change = _old_and_new(obj)
            if change:
                _add(deltas, change[0], -1)
                _add(deltas, change[1], +1)
    for obj in session.deleted:
        if isinstance(obj, ExamSession):
            change = _old_and_new(obj)
            _add(deltas, change[0] if change else {name: getattr(obj, name) for name in KEY_ATTRIBUTES}, -1)
    changes = sorted((key, row) for key, row in deltas.items() if any(row))
    if changes:
        apply(session.connection(), changes)


def apply(connection, changes: list[tuple[tuple, list[int]]]) -> None:
    """Upserts the deltas, in key order (two transactions touching the same rows lock them in the same order)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    rows = [dict(zip(("month", "departement", "region", "status"), key), **dict(zip(MEASURES, row)))
            for key, row in changes]
    stmt = dialect.insert(_TABLE)
    stmt = stmt.on_conflict_do_update(
        index_elements=["month", "departement", "region", "status"],
        set_={m: _TABLE.c[m] + stmt.excluded[m] for m in MEASURES})
    connection.execute(stmt, rows)


def install() -> None:
    """Listens on every ORM session (idempotent): the counts follow whatever code flushes a session row."""
    if not event.contains(Session, "after_flush", _count_flushed):
        event.listen(Session, "after_flush", _count_flushed)


# --- reading -----------------------------------------------------------------------------------------------------
def totals(session: Session, scope, since_month: date) -> dict[str, tuple[int, int, int]]:
    """Per status: (sessions, DTE requests, relaxed) of the months from `since_month` on, within `scope` (a clause
    on SessionCount's département/région)."""
    rows = session.execute(select(SessionCount.status, func.sum(SessionCount.sessions),
                                  func.sum(SessionCount.dte_requests), func.sum(SessionCount.relaxed))
                           .where(SessionCount.month >= since_month, scope).group_by(SessionCount.status))
    return {status: (int(n or 0), int(d or 0), int(r or 0)) for status, n, d, r in rows}

