"""Centre people's portal account (seed 003, I1–I3) through identity's API: sign-up with its offline bot checks,
activation by the mailed link, attaching CERES to the account with SIRET + activation code, inviting colleagues,
accepting an invitation, the members of the company's centres."""
from __future__ import annotations

import hashlib
import re

from flask import flash, redirect, request, session, url_for

from . import auth_views
from .blueprint import allowed, api, bp, client, page, refusal_status
from .client import ServiceError
from .roles import CENTRES

CIVILITES = (("Mme", "Madame"), ("M", "Monsieur"))
ROLES = (("centre", "Centre agréé"), ("gestionnaire", "Gestionnaire CENTRES"))  # I3, as the seed names them
SIGNUP_FIELDS = ("email", "civilite", "nom", "prenom", "telephone")
MAX_POW_BITS = 24  # identity asks 16 by default; never let a changed ticket make the gateway grind for long
SIRET = re.compile(r"^\d{14}$")


# --- I1: sign-up -------------------------------------------------------------------------------------------------
def _zero_bits(digest: bytes) -> int:
    return len(digest) * 8 - int.from_bytes(digest, "big").bit_length()


def solve_proof_of_work(ticket: str, bits: int) -> str:
    """Identity's sign-up proof of work (sha256(ticket:nonce) starting with `bits` zero bits), solved here on behalf
    of the form so that it works without JavaScript; the time trap and the honeypot still hold."""
    nonce = 0
    while _zero_bits(hashlib.sha256(f"{ticket}:{nonce}".encode()).digest()) < bits:
        nonce += 1
    return str(nonce)


def _new_ticket() -> None:
    """The ticket lives in the signed session cookie, never in the form: a posted ticket cannot be swapped."""
    challenge = client().call("GET", "identity", "/accounts/signup-challenge").data
    session["signup_ticket"] = [challenge["ticket"], min(int(challenge["pow_bits"]), MAX_POW_BITS)]


def _signup_form(status: int = 200, **context):
    try:
        _new_ticket()
    except ServiceError as exc:
        context.setdefault("error_detail", exc.detail)
        status = 503
    return page("centre/signup.html", status, civilites=CIVILITES, **context)


@bp.route("/inscription", methods=["GET", "POST"])
def centre_signup():
    form = {k: request.form.get(k, "").strip() for k in SIGNUP_FIELDS}
    if request.method == "GET":
        return _signup_form(form=form)
    errors = {k: ["Ce champ est obligatoire."] for k in SIGNUP_FIELDS if not form[k]}
    for name in ("password", "password_confirmation"):
        if not request.form.get(name):
            errors[name] = ["Ce champ est obligatoire."]
    ticket = session.pop("signup_ticket", None)
    if errors or not ticket:
        return _signup_form(422, form=form, errors=errors,
                            error_detail="Certaines données sont manquantes." if errors else
                            "Le formulaire a expiré : veuillez le renvoyer.")
    body = {**form, "password": request.form["password"],
            "password_confirmation": request.form["password_confirmation"],
            "website": request.form.get("website", ""),  # honeypot: passed on as typed, identity judges it
            "ticket": ticket[0], "pow_nonce": solve_proof_of_work(ticket[0], ticket[1])}
    try:
        answer = client().call("POST", "identity", "/accounts", json=body).data
    except ServiceError as exc:
        status = exc.status if exc.status in (409, 422, 429) else 503
        errors = dict(exc.errors)
        if "ticket" in errors:  # the bot checks concern the form as a whole, not a field the person sees
            errors["_"] = errors.pop("ticket")
        return _signup_form(status, form=form, errors=errors, error_detail=exc.detail)
    session["signup_sent"] = {"email": form["email"], "detail": answer["detail"]}
    return redirect(url_for("web.centre_signup_sent"))


@bp.route("/inscription/courriel-envoye")
def centre_signup_sent():
    sent = session.get("signup_sent")
    if not sent:
        return redirect(url_for("web.centre_signup"))
    return page("centre/signup_sent.html", sent=sent)


# The mails' links point at identity's public URL (the gateway's /api/identity/…): a person opening one in a
# browser gets the DSFR page, which posts with a CSRF token. These GET routes are more specific than the proxy's.
@bp.route("/api/identity/accounts/activate", methods=["GET"])
def centre_activation_link():
    return redirect(url_for("web.centre_activate", token=request.args.get("token", "")))


@bp.route("/api/identity/invitations/accept", methods=["GET"])
def centre_invitation_link():
    return redirect(url_for("web.centre_accept_invitation", token=request.args.get("token", "")))


@bp.route("/api/identity/auth/login", methods=["GET"])
def centre_login_link():
    return redirect(url_for("web.login"))


@bp.route("/compte/activation", methods=["GET", "POST"])
def centre_activate():
    """Opening the link changes nothing (mail scanners follow links): the button activates (I1)."""
    token = request.values.get("token", "").strip()
    if request.method == "GET" or not token:
        return page("centre/activate.html", 200 if token else 404, token=token,
                    error_detail=None if token else "Ce lien n'est pas valide. Vérifiez que vous l'avez copié en "
                                                    "entier.")
    try:
        answer = client().call("POST", "identity", "/accounts/activate", json={"token": token}).data
    except ServiceError as exc:
        return page("centre/activate.html", exc.status if exc.status < 500 else 503, token=None,
                    error_detail=exc.detail)
    flash(answer["detail"], "success")
    return redirect(url_for("web.login"))


# --- I2: attach CERES to the account -------------------------------------------------------------------------
def _refresh_session() -> bool:
    """A new token carrying the account's centres (after attaching or accepting): identity's refresh."""
    refresh = session.get("refresh")
    if not refresh:
        return False
    pair = client().call("POST", "identity", "/auth/refresh", json={"refresh_token": refresh}).data
    auth_views._open_session(pair["access_token"], pair.get("refresh_token"))
    return True


def _me() -> dict | None:
    """The account and its centres; None for a demonstration log-in, which has no account."""
    try:
        return api("GET", "identity", "/me").data
    except ServiceError as exc:
        if exc.status in (403, 404):
            return None
        raise


@bp.route("/centre/rattacher", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_attach():
    form = {"siret": request.form.get("siret", "").replace(" ", "").strip(), "code": request.form.get("code", "").strip()}
    if request.method == "GET":
        return page("centre/attach.html", form=form)
    errors = {}
    if not SIRET.match(form["siret"]):
        errors["siret"] = ["Saisissez le SIRET du centre (14 chiffres)."]
    if not form["code"]:
        errors["code"] = ["Saisissez le code d'activation reçu par courrier."]
    if errors:
        return page("centre/attach.html", 422, form=form, errors=errors, error_detail="Le formulaire est incomplet.")
    try:
        attached = api("POST", "identity", "/me/centres", json=form).data
    except ServiceError as exc:
        status = exc.status if exc.status in (403, 409, 422, 429) else 503
        return page("centre/attach.html", status, form=form, errors=exc.errors, error_detail=exc.detail)
    refreshed = _refresh_session()  # before flashing: a new log-in session starts empty
    role = dict(ROLES).get(attached["role"], attached["role"])
    flash(f"CERES est rattaché à votre compte pour « {attached['raison_sociale']} » (SIRET {attached['siret']}), "
          f"avec le rôle {role}.", "success")
    if not refreshed:
        flash("Reconnectez-vous pour accéder aux données de ce centre.", "info")
    return redirect(url_for("web.centre_home"))


# --- the centres of the account, their members and invitations (I3) ----------------------------------------------
def _managed(me: dict | None) -> list[dict]:
    return [m for m in (me or {}).get("memberships", []) if m["role"] == "gestionnaire"]


@bp.route("/centre")
@allowed(*CENTRES)
def centre_home():
    me = _me()
    centres = []
    for membership in (me or {}).get("memberships", []):
        entry = {**membership, "members": None, "invitations": None}
        if membership["role"] == "gestionnaire":
            entry["members"] = api("GET", "identity", f"/centres/{membership['siret']}/members").data
            entry["invitations"] = api("GET", "identity", f"/centres/{membership['siret']}/invitations").data
        centres.append(entry)
    return page("centre/home.html", me=me, centres=centres, roles=dict(ROLES))


def _company_sirets(me: dict | None) -> list[tuple[str, str]]:
    """The SIRETs a gestionnaire may invite to: the centres of the companies (SIREN) they manage, as the
    establishments service knows them within the caller's scope, and at least their own."""
    managed = _managed(me)
    choices = {m["siret"]: f"{m['raison_sociale'] or 'Centre'} — SIRET {m['siret']}" for m in managed}
    for siren in sorted({m["siret"][:9] for m in managed}):
        try:
            found = api("GET", "establishments", "/search", params={"q": siren, "type": "CENTRE", "per_page": 50}).data
        except ServiceError:
            continue  # the gestionnaire's own centres are offered anyway
        for hit in found.get("centres", []):
            if (hit.get("siret") or "").startswith(siren):
                choices.setdefault(hit["siret"], f"{hit['raison_sociale']} — SIRET {hit['siret']}")
    return sorted(choices.items())


@bp.route("/centre/inviter", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_invite():
    """I3: find the colleague by name (3 characters at least) or give an e-mail address; a role; a SIRET of the
    company. Identity checks again that the caller manages that company."""
    me = _me()
    if not _managed(me):
        return page("error.html", 403, title="Accès refusé",
                    message="Seul le gestionnaire d'un centre peut inviter des collaborateurs.")
    sirets = _company_sirets(me)
    q = request.values.get("q", "").strip()
    form = {"q": q, "account_id": request.form.get("account_id", ""), "email": request.form.get("email", "").strip(),
            "role": request.form.get("role", ""), "siret": request.form.get("siret", "")}
    context = {"form": form, "sirets": sirets, "roles": ROLES, "hits": None}
    errors: dict[str, list[str]] = {}
    if q:
        try:
            context["hits"] = api("GET", "identity", "/accounts/search", params={"q": q}).data
        except ServiceError as exc:
            if exc.status != 422:
                raise
            errors["q"] = exc.errors.get("q") or [exc.detail]
    if request.method == "GET" or request.form.get("etape") != "inviter":
        status = 422 if errors else 200
        return page("centre/invite.html", status, errors=errors,
                    error_detail="La recherche n'a pas pu être faite." if errors else None, **context)
    if not form["account_id"] and not form["email"]:
        errors["email"] = ["Choisissez un compte dans les résultats ou saisissez une adresse électronique."]
    if not form["role"]:
        errors["role"] = ["Choisissez le rôle du collaborateur."]
    if not form["siret"]:
        errors["siret"] = ["Choisissez le centre (SIRET)."]
    if errors:
        return page("centre/invite.html", 422, errors=errors, error_detail="L'invitation est incomplète.", **context)
    body = {"siret": form["siret"], "role": form["role"]}
    if form["account_id"]:
        body["account_id"] = form["account_id"]
    else:
        body["email"] = form["email"]
    try:
        invited = api("POST", "identity", "/invitations", json=body).data
    except ServiceError as exc:
        status = refusal_status(exc)
        return page("centre/invite.html", status, errors=exc.errors, error_detail=exc.detail, **context)
    flash(f"L'invitation est envoyée à {invited['email']} (rôle {dict(ROLES)[invited['role']]}, "
          f"SIRET {invited['siret']}).", "success")
    return redirect(url_for("web.centre_home"))


@bp.route("/invitations/accepter", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_accept_invitation():
    """The invitee, logged in with the invited account, accepts (I3); their token then carries the centre."""
    token = request.values.get("token", "").strip()
    if request.method == "GET" or not token:
        return page("centre/accept.html", 200 if token else 404, token=token,
                    error_detail=None if token else "Cette invitation n'existe pas.")
    try:
        accepted = api("POST", "identity", "/invitations/accept", json={"token": token}).data
    except ServiceError as exc:
        return page("centre/accept.html", exc.status if exc.status < 500 else 503, token=None,
                    error_detail=exc.detail)
    refreshed = _refresh_session()
    flash(f"Invitation acceptée : vous avez accès au centre (SIRET {accepted['siret']}) avec le rôle "
          f"{dict(ROLES).get(accepted['role'], accepted['role'])}.", "success")
    if not refreshed:
        flash("Reconnectez-vous pour accéder aux données de ce centre.", "info")
    return redirect(url_for("web.centre_home"))

