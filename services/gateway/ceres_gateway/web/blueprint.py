"""The web pages' blueprint and what every view needs: the signed-in user, calls to the services with their
token, forms re-shown with the services' field errors."""
from __future__ import annotations

import functools
from urllib.parse import unquote, urlsplit

import requests

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory,
                   session, url_for)

from . import assets, security

from .client import Result, ServiceClient, ServiceError

from .roles import ROLE_LABELS, may, menu_for

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ressources/ceres")


@bp.route("/ressources/vendor/<path:filename>")
def vendor(filename: str):
    """The DSFR and axe-core from the npm registry, installed at setup: served from here, never from a CDN."""
    return send_from_directory(assets.assets_dir(), filename, max_age=86400)


bp.before_request(security.check_csrf)
bp.add_app_template_global(security.csrf_token, "csrf_token")  # also inside imported macros
bp.add_app_template_global(security.idempotency_key, "idempotency_key")


class SessionExpired(Exception):
    """A service answered 401 to the user's token and it could not be renewed: sign in again."""


def client() -> ServiceClient:
    return current_app.extensions["ceres_web_client"]


def current_user() -> dict | None:
    return session.get("user")


def _authorised(send):
    """`send(token)` with the user's access token; when a service refuses it (expired: 401), renew it once with the
    refresh token and send again — the user never sees a raw 401. Nothing was done on a 401 (the token is checked
    before anything else), so sending again is safe even for a POST."""
    try:
        return send(session.get("token"))
    except ServiceError as exc:
        if exc.status != 401 or not session.get("token"):
            raise
    from .auth_views import renew_tokens  # auth_views builds on this module

    if not renew_tokens():
        raise SessionExpired()
    try:
        return send(session["token"])
    except ServiceError as exc:
        if exc.status == 401:
            raise SessionExpired() from exc
        raise


def api(method: str, service: str, path: str, **kwargs) -> Result:
    return _authorised(lambda token: client().call(method, service, path, token=token, **kwargs))


def raw(method: str, service: str, path: str, *, accept: str, **kwargs) -> requests.Response:
    """Bytes in or out (a PDF, a batch's zip, an uploaded file) with the user's token, renewed like api(). The
    answer is returned whatever its status, except 401 (renewed, or sign in again)."""
    http, extra = client(), kwargs.pop("headers", {})

    def send(token):
        headers = {"Accept": accept, **extra, **security.idempotency_header(
            method, service, path, kwargs.get("data") if kwargs.get("files") is None else None, kwargs.get("params"))}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            answer = http.http.request(method, f"{http.urls[service]}{path}", headers=headers, timeout=http.timeout,
                                       allow_redirects=False, **kwargs)
        except requests.RequestException as exc:
            raise ServiceError(503, f"Le service « {service} » est momentanément indisponible.") from exc
        if answer.status_code == 401:
            raise ServiceError(401, "Jeton refusé.")
        return answer

    return _authorised(send)


def _guarded(may_open):
    """A page for signed-in users whose role `may_open(role)` (the service checks again, with the scope)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                flash("Veuillez vous connecter pour accéder à cette page.", "info")
                return redirect(url_for("web.login", suivant=request.full_path.rstrip("?")))
            if not may_open(user["role"]):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def allowed(*roles: str):
    """A page for signed-in users, of these roles only when given."""
    return _guarded(lambda role: not roles or role in roles)


def as_menu(endpoint: str):
    """A page for the roles the menu shows `endpoint` to (roles.MENU): the menu and the page cannot drift apart."""
    return _guarded(lambda role: may(role, endpoint))


login_required = allowed()


def _local_path(target: str) -> bool:
    """« /x… »: one slash then not a second one; no backslash (browsers read « /\\ » as « // », another host),
    no control character (browsers drop tabs and newlines: « /\\t/evil » would become « //evil »), no scheme, no
    host."""
    if len(target) < 2 or target[0] != "/" or target[1] == "/":
        return False
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None) -> str:
    """Only a path of this site: never send a user who just signed in (or a « retour » link) to another host. The
    path is checked as given and once decoded (« /%5Cevil » could be decoded by a proxy on the way)."""
    if target and _local_path(target) and _local_path(unquote(target)):
        return target
    return url_for("web.dashboard")


def page(template: str, status: int = 200, **context):
    return render_template(template, **context), status


def form_error(template: str, exc: ServiceError, **context):
    """Re-show the form with the service's messages next to the fields they concern (422/409/400...)."""
    return page(template, refusal_status(exc), errors=exc.errors, error_detail=exc.detail, **context)


def refusal_status(exc: ServiceError) -> int:
    """The status of a page re-shown with a service's refusal: the service's own for a refusal the user can read
    (400, 403, 404, 409, 413, 422), 422 for another refusal of the request, 503 when the service failed."""
    return exc.status if exc.status in (400, 403, 404, 409, 413, 422) else 422 if exc.status < 500 else 503


@bp.app_context_processor
def _inject():
    user = current_user()
    return {"user": user, "menu": menu_for(user["role"] if user else None), "csrf_token": security.csrf_token,
            "role_label": lambda role: ROLE_LABELS.get(role, role), "errors": {}, "asset_version": assets.DSFR.version}

