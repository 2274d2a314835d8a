"""Agréments (E7) for the DREETS/DEETS: the scope's requests to instruct; find a site, see its agréments and their
decisions, record a request, instruct, grant (from, until — never beyond the titre's end of validity, checked by
the service), refuse or withdraw with a reason after a confirmation. And a centre's activation code and letter (I2,
seed 003)."""
from __future__ import annotations

from flask import flash, redirect, request, url_for

import math

from .agent_printing import page_arg, pdf_from
from .blueprint import allowed, api, bp, form_error, page, safe_next
from .client import ServiceError
from .roles import AGENTS, DECIDERS

QUEUE_PER_PAGE = 20
SITES_PER_PAGE = 20
STATUS_LABELS = {"en_instruction": "en cours d'instruction", "accorde": "accordé", "refuse": "refusé",
                 "retire": "retiré", "termine": "terminé"}
ACTIONS = {"instruct": "Note d'instruction", "grant": "Accorder", "refuse": "Refuser", "withdraw": "Retirer",
           "end": "Terminer"}
NEEDS_REASON = ("refuse", "withdraw")
FIELDS = ("valid_from", "valid_until", "reason")


@bp.route("/agent/agrements")
@allowed(*AGENTS)
def agent_agrements():
    """The sites of the scope, found with the single search box (E6), by pages, each opening its agréments."""
    q = request.args.get("q", "").strip()
    number = page_arg()
    found, pages = None, 1
    if q:
        try:
            found = api("GET", "establishments", "/search",
                        params={"q": q, "type": "SITE", "page": number, "per_page": SITES_PER_PAGE}).data
        except ServiceError as exc:
            if exc.status != 422:
                raise
            return page("agent/agrements_search.html", 422, q=q, found=None, error_detail=exc.detail,
                        errors={"q": [m for msgs in exc.errors.values() for m in msgs] or [exc.detail]})
        pages = max(1, math.ceil(found["counts"].get("SITE", 0) / SITES_PER_PAGE))
    return page("agent/agrements_search.html", q=q, found=found, page_number=number, pages=pages)


@bp.route("/agent/agrements/a-instruire")
@allowed(*DECIDERS)
def agent_agrements_queue():
    """E7: the requests « en cours d'instruction » of the whole scope (the DREETS's région, checked by the service),
    oldest first, each with the decisions it can take."""
    number = page_arg()
    listed = api("GET", "establishments", "/agrements",
                 params={"status": "en_instruction", "page": number, "per_page": QUEUE_PER_PAGE}).data
    pages = max(1, math.ceil(listed["total"] / QUEUE_PER_PAGE))
    back = url_for("web.agent_agrements_queue", page=number) if number > 1 else url_for("web.agent_agrements_queue")
    return page("agent/agrements_queue.html", listed=listed, page_number=number, pages=pages, back=back,
                actions=ACTIONS)


def _site_page(site_id: str, status: int = 200, **context):
    site = api("GET", "establishments", f"/sites/{site_id}").data
    agrements = api("GET", "establishments", f"/sites/{site_id}/agrements").data
    context.setdefault("form", {})
    return page("agent/agrements_site.html", status, site=site, agrements=agrements, labels=STATUS_LABELS,
                actions=ACTIONS, deciders=DECIDERS, **context)


@bp.route("/agent/sites/<site_id>/agrements", methods=["GET", "POST"])
@allowed(*AGENTS)
def agent_site_agrements(site_id: str):
    if request.method == "GET":
        return _site_page(site_id)
    form = {"titre_code": request.form.get("titre_code", "").strip().upper(),
            "reason": request.form.get("reason", "").strip()}
    try:
        created = api("POST", "establishments", f"/sites/{site_id}/agrements",
                      json={"titre_code": form["titre_code"], "reason": form["reason"] or None}).data
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        return _site_page(site_id, exc.status if exc.status in (409, 422) else 503, form=form, errors=exc.errors,
                          error_detail=exc.detail)
    flash(f"Demande d'agrément enregistrée pour le titre {created['titre_code']} : en cours d'instruction.",
          "success")
    return redirect(url_for("web.agent_site_agrements", site_id=site_id))


@bp.route("/agent/agrements/<agrement_id>/<any(instruct, grant, refuse, withdraw, end):action>",
          methods=["GET", "POST"])
@allowed(*DECIDERS)
def agent_decide_agrement(agrement_id: str, action: str):
    agrement = api("GET", "establishments", f"/agrements/{agrement_id}").data
    site = api("GET", "establishments", f"/sites/{agrement['site_id']}").data
    form = {k: request.form.get(k, "").strip() for k in FIELDS}
    # Opened from the queue of requests to instruct: back there afterwards, else to the site's agréments.
    back = (safe_next(request.values["retour"]) if request.values.get("retour")
            else url_for("web.agent_site_agrements", site_id=agrement["site_id"]))
    context = {"agrement": agrement, "site": site, "action": action, "title_action": ACTIONS[action],
               "labels": STATUS_LABELS, "form": form, "back": back}
    if request.method == "GET":
        return page("agent/agrement_decision.html", **context)
    if action in NEEDS_REASON and not form["reason"]:
        return page("agent/agrement_decision.html", 422, errors={"reason": ["Le motif est obligatoire."]},
                    error_detail="Le motif est obligatoire.", **context)
    body = {k: form[k] or None for k in FIELDS}
    try:
        decided = api("POST", "establishments", f"/agrements/{agrement_id}/{action}", json=body).data
    except ServiceError as exc:
        return form_error("agent/agrement_decision.html", exc, **context)
    flash(f"Agrément {decided['titre_code']} : {STATUS_LABELS.get(decided['status'], decided['status'])}.",
          "success")
    return redirect(back)


@bp.route("/agent/centres/<siret>/code-activation")
@allowed(*AGENTS)
def agent_activation_code(siret: str):
    """I2: the centre's activation code, shown to a competent agent (the reading is traced by identity)."""
    if not siret.isdigit() or len(siret) != 14:
        return page("error.html", 404, title="Introuvable", message="SIRET invalide.")
    code = api("GET", "identity", f"/centres/{siret}/activation-code").data
    return page("agent/activation_code.html", code=code)


@bp.route("/agent/centres/<siret>/courrier-activation.pdf")
@allowed(*AGENTS)
def agent_activation_letter(siret: str):
    """Seed 003: « Modalités d'accès à l'applicatif CERES », identity's PDF, to print and send to the centre."""
    if not siret.isdigit() or len(siret) != 14:
        return page("error.html", 404, title="Introuvable", message="SIRET invalide.")
    return pdf_from("identity", f"/centres/{siret}/activation-letter", f"code-activation-{siret}.pdf", "inline")
