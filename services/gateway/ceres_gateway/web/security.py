"""The web pages' protections: the session cookie (HttpOnly, SameSite=Lax, Secure when the request came over
TLS), a CSRF token on every form, and a strict Content-Security-Policy (no inline script or style at all)."""
from __future__ import annotations

import hmac
import os
import secrets

from flask import Flask, abort, request, session
from flask.sessions import SecureCookieSessionInterface

from ceres_shared.config import ConfigError

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


class TlsAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the cookie Secure whenever the page was served over HTTPS (directly or behind a trusted proxy), so
    one deployment serves plain loopback demos and TLS production without a setting to forget."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def secret_key() -> str:
    secret = os.environ.get("CERES_SECRET_KEY")
    if secret:
        return secret
    if os.environ.get("AMQP_URL") and os.environ.get("CERES_TESTING") != "1":
        raise ConfigError("CERES_SECRET_KEY is required in production mode (it signs the web session cookie)")
    return "dev-only-secret"


def configure(app: Flask) -> None:
    app.secret_key = app.secret_key or secret_key()
    app.session_interface = TlsAwareSessionInterface()
    app.config.update(
        SESSION_COOKIE_NAME="ceres_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("CERES_SECURE_COOKIES") == "1",
    )


def csrf_token() -> str:
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Every state-changing request of the web pages carries the session's token (a form field)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = session.get("csrf")
    given = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(expected, given):
        abort(400, description="csrf")


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        # Pages hold personal data and tokens' effects: never kept by shared caches nor the back button's cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
