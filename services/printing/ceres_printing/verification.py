"""Signed verification codes printed on documents (B1).

The code is HMAC-SHA256(key, number) truncated to 128 bits, with the key's id: the public page recomputes it. Keys
rotate (a new current key; old ones stay valid for the documents they signed until retired); numbers are random
(rules.new_document_number), and without the right signature the page says the same thing for a forged code and
an unknown number, so nothing can be enumerated.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from .config import aware
from .models import VerificationKey

ROTATE_AFTER = timedelta(days=90)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _mac(secret: bytes, number: str) -> str:
    return _b64(hmac.new(secret, number.encode("utf-8"), hashlib.sha256).digest()[:16])


def current_key(session: Session, now: datetime) -> VerificationKey:
    """The newest active key; a new one when there is none or it is older than ROTATE_AFTER."""
    key = session.scalars(select(VerificationKey).where(VerificationKey.retired_at.is_(None))
                          .order_by(VerificationKey.created_at.desc()).limit(1)).first()
    if key is None or aware(key.created_at) + ROTATE_AFTER <= now:
        key = rotate(session, now)
    return key


def rotate(session: Session, now: datetime, note: str | None = None) -> VerificationKey:
    key = VerificationKey(kid=secrets.token_hex(4), secret=secrets.token_bytes(32), created_at=now, note=note)
    session.add(key)
    session.flush()
    return key


def sign(key: VerificationKey, number: str) -> str:
    return f"{key.kid}.{_mac(key.secret, number)}"


def is_genuine(session: Session, number: str, code: str | None) -> bool:
    if not code or "." not in code:
        return False
    kid, mac = code.split(".", 1)
    key = session.get(VerificationKey, kid[:16])
    if key is None or key.retired_at is not None:
        return False
    return hmac.compare_digest(mac, _mac(key.secret, number))


def verification_url(public_base: str, number: str, code: str) -> str:
    return f"{public_base.rstrip('/')}/verification/{number}?{urlencode({'code': code})}"
