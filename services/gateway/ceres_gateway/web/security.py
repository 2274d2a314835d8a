"""The web pages' protections: the session cookie (HttpOnly, SameSite=Lax, Secure when the request came over
TLS, 12 hours idle at most), HSTS over TLS, a CSRF token on every form, and a strict Content-Security-Policy (no
inline script or style at all)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, abort, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from ceres_shared import config
from ceres_shared.config import ConfigError  # noqa: F401  (raised by secret_key)

CSRF_FIELD = "csrf_token"
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",  # the DSFR draws some icons as data: URIs
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SealedSerializer:
    """The session's signed serializer, its output sealed with AES-GCM (a key derived from the app's secret): the
    cookie carries the user's tokens, which nobody who sees it can read and use elsewhere (L1)."""

    def __init__(self, signed, secret: str):
        self.signed = signed
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"ceres-gateway session cookie v1")
        self.box = AESGCM(key.derive(secret.encode()))

    def dumps(self, data) -> str:
        nonce = os.urandom(12)
        sealed = self.box.encrypt(nonce, self.signed.dumps(data).encode(), None)
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def loads(self, value: str, max_age=None):
        try:
            raw = base64.urlsafe_b64decode(value.encode())
            plain = self.box.decrypt(raw[:12], raw[12:], None)
        except (ValueError, InvalidTag) as exc:  # not ours, or altered: no session (Flask's BadSignature)
            raise BadSignature("session cookie not sealed by this gateway") from exc
        return self.signed.loads(plain.decode(), max_age=max_age)


class TlsAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the cookie Secure whenever the page was served over HTTPS (directly or behind a trusted proxy), so
    one deployment serves plain loopback demos and TLS production without a setting to forget; seals its content."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)

    def get_signing_serializer(self, app: Flask):
        signed = super().get_signing_serializer(app)
        return None if signed is None else SealedSerializer(signed, app.secret_key)


def secret_key(embedded: bool = False) -> str:
    """The key that signs the session cookie: shared config's check (M6); `embedded` only when started by
    embedded mode (python -m ceres_gateway), never under gunicorn."""
    return config.secret_key(embedded)


def configure(app: Flask, embedded: bool = False) -> None:
    app.secret_key = app.secret_key or secret_key(embedded)
    app.session_interface = TlsAwareSessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="ceres_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("CERES_SECURE_COOKIES") == "1",
        # L1: a session idle for 12 hours is over (every request renews the cookie), not 31 days.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        SESSION_REFRESH_EACH_REQUEST=True,
    )


def csrf_token() -> str:
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


IDEMPOTENCY_FIELD = "idempotency_key"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def idempotency_key() -> str:
    """A form's key, made when the form is shown (a hidden field, see macros.csrf): sent again with the form, it
    lets the services answer a retry (after a cut connection) as the first time instead of applying it twice."""
    return secrets.token_urlsafe(18)


def idempotency_header(method: str, service: str, path: str, body, params=None) -> dict:
    """The Idempotency-Key of one state-changing call made for the form being handled: the form's key with the
    call's own digest (a form may make several calls — a dry run, then the real one; the same call again after a
    token renewal keeps its key)."""
    if method not in STATE_CHANGING or not has_request_context() or request.method != "POST":
        return {}
    form_key = request.form.get(IDEMPOTENCY_FIELD, "")
    if not form_key or len(form_key) > 40 or not form_key.isascii():
        return {}
    if isinstance(body, (bytes, str)):
        body = hashlib.sha256(body if isinstance(body, bytes) else body.encode()).hexdigest()
    call = json.dumps([method, service, path, body, params], sort_keys=True, default=str)
    return {"Idempotency-Key": f"{form_key}.{hashlib.sha256(call.encode()).hexdigest()[:32]}"}


def check_csrf() -> None:
    """Every state-changing request of the web pages carries the session's token (a form field)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get("csrf")
    given = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(expected, given):
        abort(400, description="csrf")


HSTS = "max-age=31536000; includeSubDomains"


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:  # over TLS, directly or per the trusted proxy's X-Forwarded-Proto: never plain HTTP again
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html":
        # Pages hold personal data and tokens' effects: never kept by shared caches nor the back button's cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
