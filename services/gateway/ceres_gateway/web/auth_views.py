"""Signing in and out: with identity's log-in (e-mail and password), or — in embedded mode only, where identity
mounts POST /dev/tokens — the demonstration log-in that picks one of the demo's roles."""
from __future__ import annotations

import os
import time

from flask import current_app, flash, redirect, request, session, url_for

from ceres_shared.auth import KeySet, verify
from ceres_shared.errors import ApiError

from .blueprint import bp, client, page, safe_next
from .client import ServiceError
from .roles import DEMO_BY_KEY, DEMO_PROFILES, landing_for


def _keys() -> KeySet:
    keys = current_app.extensions.get("ceres_web_keys")
    if keys is None:
        url = os.environ.get("JWKS_URL") or f"{client().urls['identity']}/.well-known/jwks.json"
        keys = current_app.extensions["ceres_web_keys"] = KeySet(url=url)
    return keys


def _store_tokens(access_token: str, refresh_token: str | None) -> None:
    """Check identity's signature before trusting the token's role for the menu (the services check again)."""
    principal = verify(access_token, _keys(), os.environ.get("JWT_AUDIENCE", "ceres"))
    session["token"] = access_token
    if refresh_token:
        session["refresh"] = refresh_token
    session["user"] = {"sub": principal.subject, "role": principal.role, "name": principal.name or principal.subject,
                       "national": principal.national, "departements": sorted(principal.departements),
                       "regions": sorted(principal.regions), "sirets": sorted(principal.sirets)}


def _open_session(access_token: str, refresh_token: str | None = None) -> None:
    session.clear()  # a new session on log-in: nothing from before (fixation)
    session.permanent = True
    _store_tokens(access_token, refresh_token)


def renew_tokens() -> bool:
    """A new access token from the session's refresh token (identity rotates both). False when there is none or
    identity refuses it (expired, revoked, account disabled): the user signs in again. Two pages of one browser
    (maybe on two gateway workers) may renew with the same refresh token at once: identity gives the later one
    the same successor for a short while instead of taking it for a replay."""
    refresh = session.get("refresh")
    if not refresh:
        return False
    try:
        pair = client().call("POST", "identity", "/auth/refresh", json={"refresh_token": refresh}).data
    except ServiceError as exc:
        if exc.status >= 500:
            raise
        session.pop("refresh", None)
        return False
    try:
        _store_tokens(pair["access_token"], pair.get("refresh_token"))
    except ApiError:  # a token we cannot verify is no session
        return False
    return True


def demo_login_available() -> bool:
    """Identity mounts /dev/tokens in embedded mode only; asked once a minute (an OPTIONS on a missing route is 404)."""
    cached = current_app.extensions.get("ceres_web_demo")
    if cached and cached[1] > time.monotonic():
        return cached[0]
    try:
        answer = client().http.options(f"{client().urls['identity']}/dev/tokens", timeout=3).status_code == 200
    except Exception:  # identity down: no demo link, the log-in page says why when used
        answer = False
    current_app.extensions["ceres_web_demo"] = (answer, time.monotonic() + 60)
    return answer


@bp.route("/connexion", methods=["GET", "POST"])
def login():
    next_url = request.values.get("suivant", "")
    form = {"email": request.form.get("email", "").strip()}
    if request.method == "GET":
        return page("login.html", form=form, next_url=next_url, demo=demo_login_available())
    errors = {}
    if not form["email"]:
        errors["email"] = ["Saisissez votre adresse électronique."]
    if not request.form.get("password"):
        errors["password"] = ["Saisissez votre mot de passe."]
    if errors:
        return page("login.html", 422, form=form, next_url=next_url, errors=errors, demo=demo_login_available(),
                    error_detail="Certaines données sont manquantes.")
    try:
        pair = client().call("POST", "identity", "/auth/login",
                             json={"email": form["email"], "password": request.form["password"]}).data
        _open_session(pair["access_token"], pair.get("refresh_token"))
    except ServiceError as exc:
        return page("login.html", exc.status if exc.status < 500 else 503, form=form, next_url=next_url,
                    errors=exc.errors, error_detail=exc.detail, demo=demo_login_available())
    except ApiError as exc:
        return page("login.html", 503, form=form, next_url=next_url, error_detail=exc.detail,
                    demo=demo_login_available())
    flash(f"Bienvenue, {session['user']['name']}.", "success")
    return redirect(safe_next(next_url) if next_url else url_for(landing_for(session["user"]["role"])))


@bp.route("/connexion/demonstration", methods=["GET", "POST"])
def demo_login():
    if request.method == "GET":
        return page("demo_login.html", profiles=DEMO_PROFILES, available=demo_login_available())
    profile = DEMO_BY_KEY.get(request.form.get("profil", ""))
    if profile is None:
        return page("demo_login.html", 422, profiles=DEMO_PROFILES, available=demo_login_available(),
                    errors={"profil": ["Choisissez un profil de démonstration."]},
                    error_detail="Aucun profil n'a été choisi.")
    body = {"subject": f"demo-{profile.key}", "role": profile.role, "name": profile.name,
            "departements": list(profile.departements), "regions": list(profile.regions),
            "sirets": list(profile.sirets)}
    try:
        token = client().call("POST", "identity", "/dev/tokens", json=body).data["access_token"]
        _open_session(token)
    except ServiceError as exc:
        detail = ("La connexion de démonstration n'existe qu'en mode embarqué (make run)." if exc.status in (404, 405)
                  else exc.detail)
        return page("demo_login.html", 503 if exc.status >= 500 else 409, profiles=DEMO_PROFILES, available=False,
                    error_detail=detail)
    except ApiError as exc:
        return page("demo_login.html", 503, profiles=DEMO_PROFILES, available=False, error_detail=exc.detail)
    flash(f"Connecté(e) en démonstration : {profile.label}.", "success")
    return redirect(url_for(landing_for(profile.role)))


@bp.route("/deconnexion", methods=["POST"])
def logout():
    # L1: identity revokes the refresh token and the access token (with the account's earlier ones), which the
    # services then refuse: a copy of this cookie opens nothing. Signing out of the page works even if identity
    # is down.
    body = {name: session[key] for name, key in (("refresh_token", "refresh"), ("access_token", "token"))
            if session.get(key)}
    if body:
        try:
            client().call("POST", "identity", "/auth/logout", json=body)
        except ServiceError:
            pass
    session.clear()
    flash("Vous êtes déconnecté(e).", "success")
    return redirect(url_for("web.login"))


# --- forgotten password: identity mails a link to the page below (identity's IDENTITY_WEB_URL) -------------------
@bp.route("/mot-de-passe/oublie", methods=["GET", "POST"])
def password_forgotten():
    form = {"email": request.form.get("email", "").strip()}
    if request.method == "GET":
        return page("password_forgotten.html", form=form)
    if not form["email"]:
        return page("password_forgotten.html", 422, form=form, error_detail="L'adresse électronique est manquante.",
                    errors={"email": ["Saisissez l'adresse électronique de votre compte."]})
    try:
        answer = client().call("POST", "identity", "/auth/password-reset", json=form).data
    except ServiceError as exc:
        return page("password_forgotten.html", exc.status if exc.status < 500 else 503, form=form,
                    errors=exc.errors, error_detail=exc.detail)
    # The same answer whether or not the address has an account (identity's words).
    return page("password_forgotten.html", form=form, sent=answer["detail"])


@bp.route("/api/identity/auth/password-reset", methods=["GET"])
def password_reset_link():
    """Links mailed before they pointed at the page below (identity's own page runs a script our CSP blocks)."""
    return redirect(url_for("web.password_new", token=request.args.get("token", "")))


@bp.route("/mot-de-passe/nouveau", methods=["GET", "POST"])
def password_new():
    """The mailed link's page (a reset, or a new agent's first password). Opening it changes nothing; the form
    posts the token with the new password to identity, which checks the link (once, in time) and the password."""
    token = request.values.get("token", "").strip()
    if not token:
        return page("password_new.html", 404, token=None, error_detail="Ce lien n'est pas valide : vérifiez que vous "
                    "l'avez copié en entier, ou refaites une demande.")
    if request.method == "GET":
        return page("password_new.html", token=token)
    body = {"token": token, "password": request.form.get("password", ""),
            "password_confirmation": request.form.get("password_confirmation", "")}
    errors = {}
    if not body["password"]:
        errors["password"] = ["Saisissez votre nouveau mot de passe."]
    if not body["password_confirmation"]:
        errors["password_confirmation"] = ["Saisissez à nouveau le mot de passe."]
    if errors:
        return page("password_new.html", 422, token=token, errors=errors,
                    error_detail="Certaines données sont manquantes.")
    try:
        done = client().call("POST", "identity", "/auth/password-reset/confirm", json=body).data
    except ServiceError as exc:
        if exc.status in (404, 409, 410):  # unknown, used or expired link: the form is of no use any more
            return page("password_new.html", exc.status, token=None, error_detail=exc.detail)
        return page("password_new.html", exc.status if exc.status < 500 else 503, token=token, errors=exc.errors,
                    error_detail=exc.detail)
    session.clear()  # every log-in of the account was ended by identity: this browser's too
    flash(done["detail"], "success")
    return redirect(url_for("web.login"))
