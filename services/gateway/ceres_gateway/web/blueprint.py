"""The web pages' blueprint and what every view needs: the signed-in user, calls to the services with their
token, forms re-shown with the services' field errors."""
from __future__ import annotations

import functools
from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request, send_from_directory,
                   session, url_for)

from . import assets, security

from .client import Result, ServiceClient, ServiceError

from .roles import ROLE_LABELS, menu_for

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ressources/ceres")


@bp.route("/ressources/vendor/<path:filename>")
def vendor(filename: str):
    """The DSFR and axe-core from the npm registry, installed at setup: served from here, never from a CDN."""
    return send_from_directory(assets.assets_dir(), filename, max_age=86400)


bp.before_request(security.check_csrf)
bp.add_app_template_global(security.csrf_token, "csrf_token")  # also inside imported macros


class SessionExpired(Exception):
    """A service answered 401 to the user's token: sign in again."""


def client() -> ServiceClient:
    return current_app.extensions["ceres_web_client"]


def current_user() -> dict | None:
    return session.get("user")


def api(method: str, service: str, path: str, **kwargs) -> Result:
    try:
        return client().call(method, service, path, token=session.get("token"), **kwargs)
    except ServiceError as exc:
        if exc.status == 401 and session.get("token"):
            raise SessionExpired() from exc
        raise


def allowed(*roles: str):
    """A page for signed-in users, of these roles only when given (the service checks again, with the scope)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_user()
            if user is None:
                flash("Veuillez vous connecter pour accéder à cette page.", "info")
                return redirect(url_for("web.login", suivant=request.full_path.rstrip("?")))
            if roles and user["role"] not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


login_required = allowed()


def safe_next(target: str | None) -> str:
    """Only a path of this site: never send a user who just signed in to another host."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("web.dashboard")


def page(template: str, status: int = 200, **context):
    return render_template(template, **context), status


def form_error(template: str, exc: ServiceError, **context):
    """Re-show the form with the service's messages next to the fields they concern (422/409/400...)."""
    status = exc.status if exc.status in (400, 404, 409, 413, 422) else 422 if exc.status < 500 else 503
    return page(template, status, errors=exc.errors, error_detail=exc.detail, **context)


@bp.app_context_processor
def _inject():
    user = current_user()
    return {"user": user, "menu": menu_for(user["role"] if user else None), "csrf_token": security.csrf_token,
            "role_label": lambda role: ROLE_LABELS.get(role, role), "errors": {}, "asset_version": assets.DSFR.version}

