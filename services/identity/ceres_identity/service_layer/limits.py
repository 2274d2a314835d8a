"""Rate limits and lock-outs kept in the database (every replica sees the same counters).

Two kinds of counters. `count`: within a fixed window; at `limit` the key is blocked until `block` seconds later
(sign-up and reset requests per address, wrong activation codes per account). `fail`: progressive waits (M2) —
from the `free`-th failure on, each one imposes a wait before the next attempt, doubling up to a cap; failures are
forgotten after `memory` seconds without one (for these keys `window_start` holds the latest failure). Counted
failures must survive the error that follows them: callers commit before raising. Every refusal says how long to
wait (429 with Retry-After, L6).
"""
from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ceres_shared.errors import TooManyRequests

from ..context import aware, now
from ..models import Attempt


def key_for(kind: str, value: str) -> str:
    """Counters keyed by a hash: no email or address in clear in this table."""
    return f"{kind}:{hashlib.sha256(value.strip().lower().encode()).hexdigest()[:40]}"


def lock(session: Session, key: str) -> Attempt:
    """The key's row, locked until the transaction ends (created if need be): attempts on one key wait for each
    other, so that parallel guesses cannot all pass before the first failure is counted."""
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


def wait_text(seconds: int) -> str:
    """« 4 secondes », « 1 minute », « 15 minutes »: the wait as a person reads it (minutes rounded up)."""
    if seconds < 60:
        return f"{seconds} seconde{'s' if seconds > 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


def ensure_open(session: Session, *keys: str) -> None:
    """429 while any of the keys is blocked, with the longest of their waits."""
    waits = [(until - now()).total_seconds() for key in keys if (until := blocked_until(session, key))]
    if waits:
        seconds = max(1, math.ceil(max(waits)))
        raise TooManyRequests(f"Trop de tentatives. Veuillez réessayer dans {wait_text(seconds)}.",
                              retry_after=seconds, code="too_many_attempts")


def delay_after(failures: int, *, free: int, first: int, cap: int) -> int:
    """Seconds to wait after the `failures`-th failure: none before the `free`-th, then first, 2×first, 4×first …
    up to `cap` (M2)."""
    if failures < free:
        return 0
    return min(cap, first * 2 ** min(failures - free, 32))


def fail(session: Session, key: str, *, free: int, first: int, cap: int, memory: int) -> int:
    """Count one more failure on a progressive key; returns the wait it now imposes (0 for none)."""
    row = lock(session, key)
    current = now()
    if row.count and aware(row.window_start) + timedelta(seconds=memory) < current:
        row.count = 0  # quiet long enough: a fresh start
    row.count += 1
    row.window_start = current
    wait = delay_after(row.count, free=free, first=first, cap=cap)
    row.blocked_until = current + timedelta(seconds=wait) if wait else None
    return wait


def count(session: Session, key: str, *, limit: int, window: int, block: int | None = None) -> int:
    """Count one more; block the key when the limit is reached. Returns how many remain before the block."""
    row = lock(session, key)
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
