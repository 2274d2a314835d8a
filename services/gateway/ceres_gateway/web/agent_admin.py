"""DGEFP and administrator: the titres catalogue (list, import a file, edit a version), relaxation periods (S4),
mass operations on sessions with a dry run first, then the operation's progress (S9), and the agents' accounts
(I4: list, create with a profile and its scope, deactivate after a confirmation, reactivate)."""
from __future__ import annotations

import math

from flask import flash, redirect, request, url_for

from .agent_printing import page_arg
from .agent_sessions import STATUSES
from .blueprint import allowed, api, bp, current_user, form_error, page, raw
from .client import ServiceError, flatten_errors

CATALOGUE_EDITORS = ("dgefp", "admin")
TITRE_FIELDS = ("libelle", "level", "rncp", "end_of_validity", "prolongation_until")
MASS_ACTIONS = (("annuler", "Annuler les sessions"), ("deplacer_date_fin", "Déplacer la date de fin"))


@bp.route("/agent/titres", methods=["GET", "POST"])
@allowed("dgefp", "admin", "ud", "dreets", "deets")
def agent_titres():
    titres = api("GET", "sessions", "/titres").data
    if request.method == "GET":
        return page("agent/titres.html", titres=titres)
    upload = request.files.get("fichier")
    if upload is None or not upload.filename:
        return page("agent/titres.html", 422, titres=titres, errors={"fichier": ["Choisissez un fichier CSV ou JSON."]},
                    error_detail="Aucun fichier n'a été choisi.")
    kind = "application/json" if upload.filename.lower().endswith(".json") else "text/csv"
    answer = raw("POST", "sessions", "/titres/import", accept="application/json", data=upload.read(),
                 headers={"Content-Type": kind})
    body = answer.json() if answer.content else {}
    if answer.status_code >= 400:
        errors = flatten_errors(body.get("errors")) or {"fichier": [body.get("detail", "Fichier refusé.")]}
        return page("agent/titres.html", answer.status_code if answer.status_code in (400, 403, 409, 413, 422) else 503,
                    titres=titres, errors=errors, error_detail=body.get("detail") or "Le fichier est refusé.")
    flash("Catalogue importé : " + ", ".join(f"{k} {v}" for k, v in body.items()) + ".", "success")
    return redirect(url_for("web.agent_titres"))


@bp.route("/agent/titres/<code>/<version>", methods=["GET", "POST"])
@allowed(*CATALOGUE_EDITORS)
def agent_edit_titre(code: str, version: str):
    versions = api("GET", "sessions", f"/titres/{code}").data
    titre = next((t for t in versions if t["version_date"] == version), None)
    if titre is None:
        return page("error.html", 404, title="Introuvable", message="Cette version du titre n'existe pas.")
    if request.method == "GET":
        form = {k: "" if titre.get(k) is None else str(titre[k]) for k in TITRE_FIELDS}
        return page("agent/titre_edit.html", titre=titre, form=form)
    form = {k: request.form.get(k, "").strip() for k in TITRE_FIELDS}
    body = {"libelle": form["libelle"], "rncp": form["rncp"] or None,
            "end_of_validity": form["end_of_validity"] or None, "prolongation_until": form["prolongation_until"] or None}
    if form["level"]:
        body["level"] = int(form["level"]) if form["level"].isdigit() else form["level"]
    try:
        api("PATCH", "sessions", f"/titres/{code}/versions/{version}", json=body)
    except ServiceError as exc:
        return form_error("agent/titre_edit.html", exc, titre=titre, form=form)
    flash(f"Le titre {code} (version du {version}) est modifié.", "success")
    return redirect(url_for("web.agent_titres"))


@bp.route("/agent/assouplissements", methods=["GET", "POST"])
@allowed("ud", "dreets", "deets", "dgefp", "admin")
def agent_relaxations():
    """S4: periods during which the DTE and convocation deadlines are not enforced (opened by an administrator)."""
    periods = api("GET", "sessions", "/assouplissements").data
    form = {k: request.form.get(k, "").strip() for k in ("starts_on", "ends_on", "reason")}
    if request.method == "GET":
        return page("agent/relaxations.html", periods=periods, form=form)
    try:
        api("POST", "sessions", "/assouplissements", json={k: v or None for k, v in form.items()})
    except ServiceError as exc:
        return form_error("agent/relaxations.html", exc, periods=periods, form=form)
    flash("La période d'assouplissement est ouverte.", "success")
    return redirect(url_for("web.agent_relaxations"))


def _criteria(form: dict) -> dict:
    criteria = {"statuses": request.form.getlist("statuses")}
    for name in ("starts_from", "starts_to", "ends_from", "ends_to"):
        if form.get(name):
            criteria[name] = form[name]
    return criteria


@bp.route("/agent/operations-masse", methods=["GET", "POST"])
@allowed("admin")
def agent_mass():
    """S9: choose sessions by status and dates, see them (dry run: nothing changes), then apply with a reason."""
    names = ("starts_from", "starts_to", "ends_from", "ends_to", "action", "new_end_date", "reason", "etape")
    form = {k: request.form.get(k, "").strip() for k in names}
    form["statuses"] = request.form.getlist("statuses")
    context = {"statuses": STATUSES, "actions": MASS_ACTIONS, "form": form}
    if request.method == "GET":
        return page("agent/mass.html", preview=None, **context)
    criteria = _criteria(form)
    try:
        preview = api("POST", "sessions", "/operations-masse/apercu", json=criteria).data
    except ServiceError as exc:
        return form_error("agent/mass.html", exc, preview=None, **context)
    if form["etape"] != "appliquer":
        return page("agent/mass.html", preview=preview, **context)
    body = {"criteria": criteria, "action": form["action"], "reason": form["reason"] or None,
            "new_end_date": form["new_end_date"] or None}
    try:
        op = api("POST", "sessions", "/operations-masse", json=body).data
    except ServiceError as exc:
        return form_error("agent/mass.html", exc, preview=preview, **context)
    return redirect(url_for("web.agent_mass_progress", operation_id=op["id"]))


@bp.route("/agent/operations-masse/<operation_id>")
@allowed("admin")
def agent_mass_progress(operation_id: str):
    """The operation's progress; the page refreshes itself (no script) until it is finished."""
    op = api("GET", "sessions", f"/operations-masse/{operation_id}").data
    return page("agent/mass_progress.html", op=op, actions=dict(MASS_ACTIONS))


# --- agents' accounts (I4), through identity's /agents (agents.manage: administrators) ------------------------------
PROFILES = (("ud", "UD / DDETS (départements)"), ("dreets", "DREETS (une région)"),
            ("deets", "DEETS (une région d'outre-mer)"), ("dgefp", "DGEFP (national)"), ("afpa", "Opérateur Afpa"),
            ("admin", "Administrateur"))
ACCOUNT_STATUS = {"pending": "en attente du mot de passe", "active": "actif", "disabled": "désactivé"}
ACCOUNT_FIELDS = ("email", "civilite", "nom", "prenom", "telephone", "profile", "departements", "regions")
ACCOUNTS_PER_PAGE = 50


def _codes(raw_value: str) -> list[str]:
    """« 01, 69 » or « 01 69 » -> ["01", "69"] (upper case for Corsica's 2A/2B)."""
    return [code.upper() for code in raw_value.replace(",", " ").replace(";", " ").split()]


def _account_errors(exc: ServiceError) -> dict[str, list[str]]:
    """identity's messages, one per form field (« departements.0 » is the départements' field)."""
    errors: dict[str, list[str]] = {}
    for key, messages in exc.errors.items():
        errors.setdefault(key.split(".")[0], []).extend(messages)
    if exc.code == "email_taken":
        errors.setdefault("email", [exc.detail])
    return errors


@bp.route("/agent/comptes")
@allowed("admin")
def agent_accounts():
    agents = api("GET", "identity", "/agents").data
    number = page_arg()
    pages = max(1, math.ceil(len(agents) / ACCOUNTS_PER_PAGE))
    shown = agents[(number - 1) * ACCOUNTS_PER_PAGE:number * ACCOUNTS_PER_PAGE]
    return page("agent/accounts.html", agents=shown, total=len(agents), page_number=number, pages=pages,
                profiles=dict(PROFILES), statuses=ACCOUNT_STATUS, me=current_user()["sub"])


@bp.route("/agent/comptes/nouveau", methods=["GET", "POST"])
@allowed("admin")
def agent_account_new():
    """The new agent receives a link by e-mail to choose a password (72 hours); the scope follows the profile: an
    UD's départements, a DREETS's or DEETS's région, none for the others (identity checks each, field by field)."""
    form = {k: request.form.get(k, "").strip() for k in ACCOUNT_FIELDS}
    context = {"form": form, "profiles": PROFILES}
    if request.method == "GET":
        return page("agent/account_new.html", **context)
    body = {k: form[k] for k in ("email", "civilite", "nom", "prenom", "profile")}
    body.update(telephone=form["telephone"] or None, departements=_codes(form["departements"]),
                regions=_codes(form["regions"]))
    try:
        created = api("POST", "identity", "/agents", json=body).data
    except ServiceError as exc:
        if exc.status == 403:
            raise
        return page("agent/account_new.html", exc.status if exc.status in (409, 422) else 503,
                    errors=_account_errors(exc), error_detail=exc.detail, **context)
    flash(f"Le compte de {created['prenom']} {created['nom']} ({created['email']}) est créé : un lien pour choisir "
          "son mot de passe lui est envoyé par courriel.", "success")
    return redirect(url_for("web.agent_accounts"))


@bp.route("/agent/comptes/<agent_id>/desactivation", methods=["GET", "POST"])
@allowed("admin")
def agent_account_disable(agent_id: str):
    """A confirmation first: the agent can no longer sign in and their open log-ins end (identity)."""
    agent = api("GET", "identity", f"/agents/{agent_id}").data
    context = {"agent": agent, "profiles": dict(PROFILES)}
    if request.method == "GET":
        return page("agent/account_disable.html", **context)
    try:
        api("PATCH", "identity", f"/agents/{agent_id}", json={"status": "disabled"})
    except ServiceError as exc:
        return form_error("agent/account_disable.html", exc, **context)
    flash(f"Le compte de {agent['prenom']} {agent['nom']} est désactivé.", "success")
    return redirect(url_for("web.agent_accounts"))


@bp.route("/agent/comptes/<agent_id>/reactivation", methods=["POST"])
@allowed("admin")
def agent_account_enable(agent_id: str):
    agent = api("PATCH", "identity", f"/agents/{agent_id}", json={"status": "active"}).data
    flash(f"Le compte de {agent['prenom']} {agent['nom']} est réactivé.", "success")
    return redirect(url_for("web.agent_accounts"))
