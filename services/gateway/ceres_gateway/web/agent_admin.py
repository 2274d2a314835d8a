"""DGEFP and administrator: the titres catalogue (list, import a file, edit a version), relaxation periods (S4) and
mass operations on sessions with a dry run first, then the operation's progress (S9)."""
from __future__ import annotations

from flask import flash, redirect, request, session, url_for

from .agent_sessions import STATUSES
from .blueprint import allowed, api, bp, client, form_error, page
from .client import ServiceError

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
    http = client()
    answer = http.http.post(f"{http.urls['sessions']}/titres/import", data=upload.read(), timeout=http.timeout,
                            headers={"Content-Type": kind, "Accept": "application/json",
                                     "Authorization": f"Bearer {session.get('token')}"})
    body = answer.json() if answer.content else {}
    if answer.status_code >= 400:
        from .client import flatten_errors

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
