"""Rate limits and lock-outs kept in the database (every replica sees the same counters).

A counter counts within a window; at `limit` the key is blocked until `block` seconds later. Counted failures
must survive the error that follows them: callers commit before raising.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ceres_shared.errors import ApiError

from ..context import aware, now
from ..models import Attempt

TOO_MANY = "Trop de tentatives. Veuillez réessayer plus tard."


def key_for(kind: str, value: str) -> str:
    """Counters keyed by a hash: no email or address in clear in this table."""
    return f"{kind}:{hashlib.sha256(value.strip().lower().encode()).hexdigest()[:40]}"


def _row(session: Session, key: str) -> Attempt:
    row = session.get(Attempt, key, with_for_update=True)
    if row is None:
        try:
            with session.begin_nested():
                row = Attempt(key=key, count=0, window_start=now())
                session.add(row)
        except IntegrityError:  # another request created it meanwhile
            row = session.get(Attempt, key, with_for_update=True)
    return row


def blocked_until(session: Session, key: str):
    row = session.get(Attempt, key)
    until = aware(row.blocked_until) if row else None
    return until if until and until > now() else None


def ensure_open(session: Session, *keys: str) -> None:
    for key in keys:
        until = blocked_until(session, key)
        if until:
            minutes = max(1, int((until - now()).total_seconds() // 60) + 1)
            raise ApiError(429, f"{TOO_MANY} (dans {minutes} min)", code="too_many_attempts",
                           retry_after=minutes * 60)


def count(session: Session, key: str, *, limit: int, window: int, block: int | None = None) -> int:
    """Count one more; block the key when the limit is reached. Returns how many remain before the block."""
    row = _row(session, key)
    current = now()
    if aware(row.window_start) + timedelta(seconds=window) < current:
        row.count, row.window_start, row.blocked_until = 0, current, None
    row.count += 1
    if row.count >= limit:
        row.blocked_until = current + timedelta(seconds=block or window)
    return max(0, limit - row.count)


def clear(session: Session, key: str) -> None:
    row = session.get(Attempt, key)
    if row is not None:
        session.delete(row)


def purge_stale(session: Session, older_than: int = 24 * 3600) -> int:
    cutoff = now() - timedelta(seconds=older_than)
    stale = session.query(Attempt).filter(Attempt.window_start < cutoff)
    stale = stale.filter((Attempt.blocked_until.is_(None)) | (Attempt.blocked_until < now()))
    return stale.delete(synchronize_session=False)
