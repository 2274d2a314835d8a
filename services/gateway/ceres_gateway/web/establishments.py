"""Agents' journeys on centres and sites, through the establishments API: the single search box with its counts
(E6), registering a centre by SIRET (E2), transferring a site after a confirmation (E5)."""
from __future__ import annotations

import math

from flask import flash, redirect, request, url_for

from .blueprint import allowed, api, bp, form_error, login_required, page
from .client import ServiceError
from .formatting import TYPES_CENTRE
from .roles import AGENTS

PER_PAGE = 20
SITES_PER_PAGE = 50  # a centre de reprise holds thousands of sites
KINDS = {"CENTRE": "Centres", "SITE": "Sites"}


def _int_arg(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        return default


@bp.route("/centres")
@login_required
def search():
    """E6: one box (SIRET, SIREN, words of the name or the commune); counts of centres and sites, each a tab."""
    q = request.args.get("q", "").strip()
    kind = request.args.get("type") if request.args.get("type") in KINDS else None
    page_number = _int_arg("page", 1)
    if not q:
        return page("search.html", q=q, kind=kind, found=None)
    params = {"q": q, "page": page_number, "per_page": PER_PAGE}
    if kind:
        params["type"] = kind
    try:
        found = api("GET", "establishments", "/search", params=params).data
    except ServiceError as exc:
        if exc.status == 422:
            errors = {"q": [m for msgs in exc.errors.values() for m in msgs] or [exc.detail]}
            return page("search.html", 422, q=q, kind=kind, found=None, errors=errors, error_detail=exc.detail)
        raise
    shown = kind or ("CENTRE" if found["counts"].get("CENTRE") or not found["counts"].get("SITE") else "SITE")
    pages = max(1, math.ceil(found["counts"].get(shown, 0) / PER_PAGE))
    return page("search.html", q=q, kind=kind, shown=shown, found=found, page_number=page_number, pages=pages)


@bp.route("/centres/<centre_id>")
@login_required
def centre(centre_id: str):
    """The centre and its sites of the caller's scope, by pages (the service lists them all: paged here); ?site=
    opens the page holding that site (a search result links to it so)."""
    data = api("GET", "establishments", f"/centres/{centre_id}").data
    sites = api("GET", "establishments", f"/centres/{centre_id}/sites").data or []
    pages = max(1, math.ceil(len(sites) / SITES_PER_PAGE))
    wanted = request.args.get("site")
    index = next((i for i, s in enumerate(sites) if s["id"] == wanted), None) if wanted else None
    page_number = index // SITES_PER_PAGE + 1 if index is not None else min(_int_arg("page", 1), pages)
    shown = sites[(page_number - 1) * SITES_PER_PAGE:page_number * SITES_PER_PAGE]
    return page("centre.html", centre=data, sites=shown, site_count=len(sites), page_number=page_number,
                pages=pages, agent_roles=AGENTS)


@bp.route("/centres/nouveau", methods=["GET", "POST"])
@allowed(*AGENTS)
def register_centre():
    """E2: the SIRET first; the company register's data are shown read-only; then the agent completes and saves."""
    form = {k: request.form.get(k, "").strip() for k in ("siret", "type_centre", "reseau", "representant",
                                                         "commentaires")}
    form["siret"] = form["siret"].replace(" ", "")
    step = request.form.get("etape", "siret")
    if request.method == "GET":
        return page("centre_register.html", form=form, company=None, types=TYPES_CENTRE)
    if not form["siret"]:
        return page("centre_register.html", 422, form=form, company=None, types=TYPES_CENTRE,
                    errors={"siret": ["Saisissez le SIRET du centre (14 chiffres)."]},
                    error_detail="Le SIRET est obligatoire.")
    try:
        company = api("GET", "establishments", "/centres/registration-preview", params={"siret": form["siret"]}).data
    except ServiceError as exc:
        return form_error("centre_register.html", exc, form=form, company=None, types=TYPES_CENTRE)
    if step != "enregistrer":
        return page("centre_register.html", form=form, company=company, types=TYPES_CENTRE)
    body = {"siret": form["siret"]}
    body.update({k: form[k] or None for k in ("type_centre", "reseau", "representant", "commentaires")})
    try:
        created = api("POST", "establishments", "/centres", json=body).data
    except ServiceError as exc:
        return form_error("centre_register.html", exc, form=form, company=company, types=TYPES_CENTRE)
    flash(f"Le centre « {created['raison_sociale']} » est enregistré (SIRET {created['siret']}).", "success")
    return redirect(url_for("web.centre", centre_id=created["id"]))


@bp.route("/sites/<site_id>/transfert", methods=["GET", "POST"])
@allowed(*AGENTS)
def transfer_site(site_id: str):
    """E5: the target centre's SIRET, then a confirmation page naming the target (raison sociale, adresse,
    commune); only the confirmation moves the site, with its agréments."""
    site = api("GET", "establishments", f"/sites/{site_id}").data
    siret = request.form.get("siret", "").replace(" ", "").strip()
    form = {"siret": siret}
    if request.method == "GET":
        return page("transfer.html", site=site, form=form, preview=None)
    if not siret:
        return page("transfer.html", 422, site=site, form=form, preview=None, error_detail="Le SIRET est obligatoire.",
                    errors={"siret": ["Saisissez le SIRET du centre qui reçoit le site."]})
    try:
        preview = api("GET", "establishments", f"/sites/{site_id}/transfer-preview", params={"siret": siret}).data
    except ServiceError as exc:
        return form_error("transfer.html", exc, site=site, form=form, preview=None)
    if request.form.get("etape") != "confirmer":
        return page("transfer.html", site=site, form=form, preview=preview)
    version = request.form.get("version")
    try:
        moved = api("POST", "establishments", f"/sites/{site_id}/transfer",
                    json={"siret": siret, "version": int(version) if version and version.isdigit() else None}).data
    except ServiceError as exc:
        return form_error("transfer.html", exc, site=site, form=form, preview=preview)
    flash(f"Le site « {moved['name']} » est transféré au centre {preview['to_centre']['raison_sociale']} "
          f"(SIRET {siret}).", "success")
    return redirect(url_for("web.centre", centre_id=moved["centre_id"]))
