"""P7: after a PND the agent corrects the candidate's postal address in the candidates service (C4: a validated
record is reopened as a draft, changed, then validated again); printing then has the Afpa send the same documents
again, without a duplicata."""
from __future__ import annotations

from flask import flash, redirect, request, url_for

from . import communes
from .blueprint import allowed, api, bp, page, safe_next
from .client import ServiceError
from .roles import AGENTS

FIELDS = ("address.lines.0", "address.lines.1", "address.code_postal", "address.commune_code",
          "address.commune_label", "address.country")


def _form_of(record: dict) -> dict:
    address = record.get("address") or {}
    lines = list(address.get("lines") or []) + ["", ""]
    return {"address.lines.0": lines[0], "address.lines.1": lines[1],
            "address.code_postal": address.get("code_postal") or "",
            "address.commune_code": communes.shown(address.get("commune_code"), address.get("code_postal")),
            "address.commune_label": address.get("commune_label") or "",
            "address.country": address.get("country") or "FRANCE"}


@bp.route("/agent/candidats/<int:candidate_id>/adresse", methods=["GET", "POST"])
@allowed(*AGENTS)
def agent_candidate_address(candidate_id: int):
    answer = api("GET", "candidates", f"/candidates/{candidate_id}")
    back = safe_next(request.values.get("retour"))
    if answer.status == 301:  # C1: a merged record answers with the one kept; its address is the one to correct
        kept = int(answer.headers.get("Location", "").rstrip("/").rsplit("/", 1)[-1])
        flash(f"Ce dossier a été fusionné dans le dossier n° {kept} : c'est l'adresse de celui-ci que vous corrigez.",
              "info")
        return redirect(url_for("web.agent_candidate_address", candidate_id=kept, retour=request.values.get("retour")))
    record = answer.data
    if request.method == "GET":
        return page("agent/candidate_address.html", record=record, form=_form_of(record), back=back)
    form = {name: request.form.get(name, "").strip() for name in FIELDS}
    country = form["address.country"] or (record.get("address") or {}).get("country") or "FRANCE"  # kept unless
    # the agent changes it; in France the commune typed (name, postcode or code) is resolved to its INSEE code (C3)
    found = communes.resolve_field("address.commune_code") if country.upper() == "FRANCE" else None
    address = {"lines": [line for line in (form["address.lines.0"], form["address.lines.1"]) if line],
               "code_postal": communes.postcode_for(found, form["address.code_postal"], (
                   record.get("address") or {}).get("code_postal")) if found else form["address.code_postal"],
               "commune_code": found.code if found else None,
               "commune_label": form["address.commune_label"] or None, "country": country.upper()}
    errors = {} if address["lines"] else {"address.lines.0": ["Saisissez au moins une ligne d'adresse."]}
    errors.update(found.errors if found else {})
    if errors:
        return page("agent/candidate_address.html", 422, record=record, form=form, back=back, errors=errors,
                    error_detail="La commune n'a pas pu être déterminée." if address["lines"]
                    else "L'adresse est incomplète.")

    def refused(exc: ServiceError, consequence: str = ""):
        """The first step that failed, its messages next to their fields; nothing after it was attempted."""
        if exc.status == 403:
            raise exc
        status = exc.status if exc.status in (400, 404, 409, 422) else 503
        return page("agent/candidate_address.html", status, record=record, form=form, back=back, errors=exc.errors,
                    error_detail=f"{exc.detail}{consequence}")

    base = f"/candidates/{candidate_id}"
    reopened = record["status"] != "brouillon"
    if reopened:  # C4: a validated record is read-only until it is reopened
        try:
            api("POST", "candidates", f"{base}/brouillon")
        except ServiceError as exc:
            return refused(exc, " Le dossier n'a pas été modifié.")
    try:
        api("PATCH", "candidates", base, json={"address": address})
    except ServiceError as exc:
        if not reopened:
            return refused(exc)
        try:  # the change was refused: put the record back as it was (validated)
            api("POST", "candidates", f"{base}/validation")
        except ServiceError:
            return refused(exc, " Le dossier est resté à l'état brouillon.")
        return refused(exc)
    if reopened:
        try:
            api("POST", "candidates", f"{base}/validation")
        except ServiceError as exc:
            return refused(exc, " La nouvelle adresse est enregistrée mais le dossier n'a pas pu être validé à "
                                "nouveau : il est resté à l'état brouillon.")
    flash("L'adresse du candidat est corrigée : l'Afpa renverra les documents non distribués (sans duplicata).",
          "success")
    return redirect(back if request.values.get("retour") else url_for("web.dashboard"))
