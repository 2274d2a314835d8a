"""DGEFP and administrator: the titres catalogue (list, import a file after its dry run and a confirmation, edit a
version), relaxation periods (S4, after a confirmation), mass operations on sessions with a dry run first, applied
to the previewed sessions only, then the operation's progress (S9), and the agents' accounts (I4: list, create with
a profile and its scope, deactivate after a confirmation, reactivate). Each page is open to the roles the menu
shows it to (roles.MENU)."""
from __future__ import annotations

import hashlib
import json
import math
from datetime import datetime

from flask import current_app, flash, redirect, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from .agent_printing import page_arg
from .agent_sessions import PARIS, STATUSES, confirm_with_reason, day_fr
from .blueprint import api, as_menu, bp, current_user, form_error, page, raw
from .client import ServiceError, flatten_errors

TITRE_FIELDS = ("libelle", "level", "rncp", "end_of_validity", "prolongation_until")
MASS_ACTIONS = (("annuler", "Annuler les sessions"), ("deplacer_date_fin", "Déplacer la date de fin"))
# The catalogue file's fields, as the import preview names the changed ones.
IMPORT_FIELD_LABELS = {"code": "code", "version_date": "version", "libelle": "libellé", "kind": "type",
                       "level": "niveau", "nsf_codes": "codes NSF", "rncp": "code RNCP", "jo_date": "date du JO",
                       "end_of_validity": "fin de validité", "prolongation_until": "prolongation",
                       "ccs_of": "titre du CCS", "ccps": "CCP"}
PREVIEW_KEPT_S = 3600  # a preview older than this is shown again before anything is applied
PROGRESS_REFRESH_S = 5


def _signer(purpose: str) -> URLSafeTimedSerializer:
    """What a preview showed, signed into the confirmation form with the app's secret: the confirmation applies
    exactly that, or shows the new preview."""
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"ceres-web-{purpose}")


def _unsign(purpose: str, token: str) -> dict | None:
    try:
        return _signer(purpose).loads(token, max_age=PREVIEW_KEPT_S)
    except BadData:  # missing, altered or too old
        return None


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


# --- the titres catalogue: import after a dry run and a confirmation ------------------------------------------
def _import(content: bytes, kind: str, dry_run: bool) -> tuple[int, dict]:
    answer = raw("POST", "sessions", "/titres/import", accept="application/json", data=content,
                 headers={"Content-Type": kind}, params={"dry_run": "1"} if dry_run else None)
    return answer.status_code, answer.json() if answer.content else {}


def _import_refused(titres: list, status: int, body: dict):
    errors = flatten_errors(body.get("errors")) or {"fichier": [body.get("detail", "Fichier refusé.")]}
    return page("agent/titres.html", status if status in (400, 403, 409, 413, 415, 422) else 503, titres=titres,
                errors=errors, error_detail=body.get("detail") or "Le fichier est refusé.")


@bp.route("/agent/titres", methods=["GET", "POST"])
@as_menu("web.agent_titres")
def agent_titres():
    """The catalogue; a file is first read in a dry run (what would change, version by version), then imported
    once confirmed — the file and what the dry run said travel signed in the confirmation form."""
    titres = api("GET", "sessions", "/titres").data
    if request.method == "GET":
        return page("agent/titres.html", titres=titres)
    confirming = request.form.get("etape") == "confirmer"
    if confirming:
        previewed = _unsign("titres-import", request.form.get("import", ""))
        if previewed is None:
            return page("agent/titres.html", 409, titres=titres, errors={"fichier": [
                "L'aperçu de l'import a expiré : choisissez de nouveau le fichier."]},
                        error_detail="L'aperçu de l'import a expiré ; rien n'a été importé.")
        name, kind, content = previewed["name"], previewed["kind"], previewed["content"].encode("utf-8")
    else:
        upload = request.files.get("fichier")
        if upload is None or not upload.filename:
            return page("agent/titres.html", 422, titres=titres, error_detail="Aucun fichier n'a été choisi.",
                        errors={"fichier": ["Choisissez un fichier CSV ou JSON."]})
        name, content = upload.filename, upload.read()
        kind = "application/json" if name.lower().endswith(".json") else "text/csv"
    status, plan = _import(content, kind, dry_run=True)
    if status >= 400:
        return _import_refused(titres, status, plan)
    if confirming and _digest(plan) == previewed["plan"]:
        status, counts = _import(content, kind, dry_run=False)
        if status >= 400:
            return _import_refused(titres, status, counts)
        flash(f"Catalogue importé depuis « {name} » : {counts['publies']} version(s) publiée(s), "
              f"{counts['mis_a_jour']} modifiée(s), {counts['inchanges']} inchangée(s).", "success")
        return redirect(url_for("web.agent_titres"))
    # The dry run (utf-8 checked by the service) or, at the confirmation, the catalogue changed in between.
    token = _signer("titres-import").dumps({"name": name, "kind": kind, "content": content.decode("utf-8"),
                                            "plan": _digest(plan)})
    return page("agent/titres_import.html", 409 if confirming else 200, plan=plan, name=name, token=token,
                labels=IMPORT_FIELD_LABELS, changed=confirming)


@bp.route("/agent/titres/<code>/<version>", methods=["GET", "POST"])
@as_menu("web.agent_titres")
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


# --- relaxation periods (S4): checked, confirmed, then opened -------------------------------------------------
@bp.route("/agent/assouplissements", methods=["GET", "POST"])
@as_menu("web.agent_relaxations")
def agent_relaxations():
    """S4: periods during which the DTE and convocation deadlines are not enforced (opened by an administrator,
    after a confirmation; one in force or to come can be closed early)."""
    periods = api("GET", "sessions", "/assouplissements").data
    form = {k: request.form.get(k, "").strip() for k in ("starts_on", "ends_on", "reason")}
    step = request.form.get("etape", "")
    if request.method == "GET" or step == "modifier":
        return page("agent/relaxations.html", periods=periods, form=form)
    body = {k: v or None for k, v in form.items()}
    try:
        if step != "confirmer":  # checked by the service, field by field, without opening it
            api("POST", "sessions", "/assouplissements", json=body, params={"dry_run": "1"})
            return page("agent/relaxations_confirm.html", form=form)
        api("POST", "sessions", "/assouplissements", json=body)
    except ServiceError as exc:
        return form_error("agent/relaxations.html", exc, periods=periods, form=form)
    flash("La période d'assouplissement est ouverte.", "success")
    return redirect(url_for("web.agent_relaxations"))


@bp.route("/agent/assouplissements/<int:relaxation_id>/cloture", methods=["GET", "POST"])
@as_menu("web.agent_relaxations")
def agent_close_relaxation(relaxation_id: int):
    """S4: closing a period early cannot be undone: a confirmation that says what changes, and a reason."""
    try:
        period = api("GET", "sessions", f"/assouplissements/{relaxation_id}").data
    except ServiceError as exc:
        if exc.status != 404:
            raise
        return page("error.html", 404, title="Période introuvable",
                    message="Cette période d'assouplissement n'existe pas.")
    return confirm_with_reason(
        "agent/relaxation_close.html", f"/assouplissements/{relaxation_id}/cloture",
        "Saisissez le motif de la clôture.",
        f"La période d'assouplissement du {day_fr(period['starts_on'])} au {day_fr(period['ends_on'])} est close : "
        f"les délais s'appliquent de nouveau.", url_for("web.agent_relaxations"),
        period=period, today=datetime.now(PARIS).date().isoformat())


# --- mass operations (S9): apply exactly what was previewed ---------------------------------------------------
def _criteria(form: dict) -> dict:
    criteria = {"statuses": sorted(form["statuses"])}
    for name in ("starts_from", "starts_to", "ends_from", "ends_to"):
        if form.get(name):
            criteria[name] = form[name]
    return criteria


@bp.route("/agent/operations-masse", methods=["GET", "POST"])
@as_menu("web.agent_mass")
def agent_mass():
    """S9: choose sessions by status and dates, see them (dry run: nothing changes), then apply with a reason —
    to the previewed sessions only: the preview's criteria and fingerprint travel signed in the form; other
    criteria, an expired preview or sessions changed since (the service checks the fingerprint) show the new
    preview instead of applying."""
    names = ("starts_from", "starts_to", "ends_from", "ends_to", "action", "new_end_date", "reason", "etape")
    form = {k: request.form.get(k, "").strip() for k in names}
    form["statuses"] = request.form.getlist("statuses")
    context = {"statuses": STATUSES, "actions": MASS_ACTIONS, "form": form}
    if request.method == "GET":
        return page("agent/mass.html", preview=None, **context)
    criteria, notice, refusal = _criteria(form), None, None
    if form["etape"] == "appliquer":
        previewed = _unsign("mass", request.form.get("apercu", ""))
        if previewed is None:
            notice = "L'aperçu a expiré : vérifiez de nouveau les sessions concernées avant d'appliquer."
        elif previewed["criteria"] != criteria:
            notice = ("Les critères ont changé depuis l'aperçu : voici les sessions qu'ils désignent maintenant ; "
                      "rien n'a été appliqué.")
        else:
            body = {"criteria": criteria, "action": form["action"], "reason": form["reason"] or None,
                    "new_end_date": form["new_end_date"] or None, "expected_fingerprint": previewed["fingerprint"]}
            try:
                op = api("POST", "sessions", "/operations-masse", json=body).data
                return redirect(url_for("web.agent_mass_progress", operation_id=op["id"]))
            except ServiceError as exc:
                if exc.code == "selection_changed":
                    notice = exc.detail + " Rien n'a été appliqué."
                else:
                    refusal = exc
    try:
        preview = api("POST", "sessions", "/operations-masse/apercu", json=criteria).data
    except ServiceError as exc:
        return form_error("agent/mass.html", exc, preview=None, **context)
    token = _signer("mass").dumps({"criteria": criteria, "total": preview["total"],
                                   "fingerprint": preview["fingerprint"]})
    if refusal is not None:
        return form_error("agent/mass.html", refusal, preview=preview, token=token, **context)
    return page("agent/mass.html", 409 if notice else 200, preview=preview, token=token, notice=notice, **context)


@bp.route("/agent/operations-masse/<operation_id>")
@as_menu("web.agent_mass")
def agent_mass_progress(operation_id: str):
    """The operation's progress. While it runs the page reloads itself every few seconds (an HTTP Refresh header,
    no script), unless the user turned that off (WCAG 2.2.1: a time limit the user can stop)."""
    op = api("GET", "sessions", f"/operations-masse/{operation_id}").data
    running = op["state"] != "terminee"
    auto = request.args.get("auto") != "0"
    html, status = page("agent/mass_progress.html", op=op, actions=dict(MASS_ACTIONS), running=running, auto=auto,
                        refresh_s=PROGRESS_REFRESH_S)
    headers = {"Refresh": str(PROGRESS_REFRESH_S)} if running and auto else {}
    return html, status, headers


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
@as_menu("web.agent_accounts")
def agent_accounts():
    agents = api("GET", "identity", "/agents").data
    number = page_arg()
    pages = max(1, math.ceil(len(agents) / ACCOUNTS_PER_PAGE))
    shown = agents[(number - 1) * ACCOUNTS_PER_PAGE:number * ACCOUNTS_PER_PAGE]
    return page("agent/accounts.html", agents=shown, total=len(agents), page_number=number, pages=pages,
                profiles=dict(PROFILES), statuses=ACCOUNT_STATUS, me=current_user()["sub"])


@bp.route("/agent/comptes/nouveau", methods=["GET", "POST"])
@as_menu("web.agent_accounts")
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
@as_menu("web.agent_accounts")
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
@as_menu("web.agent_accounts")
def agent_account_enable(agent_id: str):
    agent = api("PATCH", "identity", f"/agents/{agent_id}", json={"status": "active"}).data
    flash(f"Le compte de {agent['prenom']} {agent['nom']} est réactivé.", "success")
    return redirect(url_for("web.agent_accounts"))
