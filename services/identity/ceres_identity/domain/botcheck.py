"""Offline bot protection for sign-up (I1): a signed ticket that carries a time trap and a proof of work.

The form asks for a ticket, the browser finds a nonce such that sha256(ticket + nonce) starts with `bits` zero
bits (a fraction of a second in JavaScript, costly for mass sign-ups), and the form cannot come back sooner than
a human can fill it. A hidden honeypot field must stay empty. Each ticket is accepted once (rate-limit table).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time


def _sign(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()[:32]


def issue_ticket(secret: str, bits: int, now: float | None = None) -> str:
    body = f"{int((now or time.time()) * 1000)}.{bits}.{secrets.token_hex(8)}"
    return f"{body}.{_sign(secret, body)}"


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def solve(ticket: str, bits: int) -> str:
    """What the browser does (used by the tests and the demo client)."""
    nonce = 0
    while leading_zero_bits(hashlib.sha256(f"{ticket}:{nonce}".encode()).digest()) < bits:
        nonce += 1
    return str(nonce)


def check(secret: str, ticket: str, nonce: str, *, min_seconds: float, max_seconds: float,
          now: float | None = None) -> str | None:
    """None when the ticket is genuine, old enough, fresh enough and solved; else the reason (French)."""
    try:
        issued_ms, bits, rand, signature = ticket.split(".")
        issued = int(issued_ms) / 1000
        bits_needed = int(bits)
    except ValueError:
        return "Vérification anti-robot invalide."
    if not hmac.compare_digest(signature, _sign(secret, f"{issued_ms}.{bits}.{rand}")):
        return "Vérification anti-robot invalide."
    age = (now or time.time()) - issued
    if age < min_seconds:
        return "Formulaire envoyé trop vite : veuillez réessayer."
    if age > max_seconds:
        return "Le formulaire a expiré : veuillez recharger la page."
    if leading_zero_bits(hashlib.sha256(f"{ticket}:{nonce}".encode()).digest()) < bits_needed:
        return "Vérification anti-robot invalide."
    return None
