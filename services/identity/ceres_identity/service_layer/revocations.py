"""L1: access tokens ended before they expire, and the list the services read (ceres_shared.revocation)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..context import aware, now
from ..models import AccessRevocation

LEEWAY = 60  # seconds: the services accept tokens 10 s past their expiry, and clocks drift
KEPT = timedelta(days=1)  # longer than any access token lives


def _revoke(session: Session, key: str) -> None:
    session.execute(delete(AccessRevocation).where(AccessRevocation.revoked_at < now() - KEPT))
    session.merge(AccessRevocation(key=key, revoked_at=now()))


def cut_off(session: Session, subject: str) -> None:
    """The account's access tokens issued before this second are refused (log-out, log-ins ended, scope changed)."""
    _revoke(session, f"sub:{subject}")


def revoke_token(session: Session, token_id: str) -> None:
    _revoke(session, f"jti:{token_id}")


def listed(session: Session, access_ttl: int) -> dict:
    """What the services refuse: cut-offs (epoch seconds) and token ids, while a token they concern may live."""
    horizon = now() - timedelta(seconds=access_ttl + LEEWAY)
    rows = session.execute(select(AccessRevocation.key, AccessRevocation.revoked_at)
                           .where(AccessRevocation.revoked_at >= horizon)).all()
    subjects, tokens = {}, []
    for key, revoked_at in rows:
        kind, _, value = key.partition(":")
        if kind == "sub":
            subjects[value] = int(aware(revoked_at).timestamp())
        else:
            tokens.append(value)
    return {"subjects": subjects, "tokens": tokens}
