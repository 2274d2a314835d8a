"""Agents' journeys on centres and sites, through the establishments API: the single search box with its counts
(E6), registering a centre by SIRET (E2), transferring a site after a confirmation (E5)."""
from __future__ import annotations

import math

from flask import abort, flash, redirect, request, url_for

from . import communes
from .blueprint import allowed, api, bp, current_user as session_user, form_error, login_required, page
from .client import ServiceError
from .formatting import TYPES_CENTRE, long_date
from .roles import AGENTS

PER_PAGE = 20
SITES_PER_PAGE = 50  # a centre de reprise holds thousands of sites
KINDS = {"CENTRE": "Centres", "SITE": "Sites"}


def _query_errors(exc: ServiceError) -> dict[str, list[str]]:
    """The search service's refusal of the text typed (E6), next to the search box."""
    return {"q": [m for msgs in exc.errors.values() for m in msgs] or [exc.detail]}


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
            return page("search.html", 422, q=q, kind=kind, found=None, errors=_query_errors(exc),
                        error_detail=exc.detail)
        raise
    shown = kind or ("CENTRE" if found["counts"].get("CENTRE") or not found["counts"].get("SITE") else "SITE")
    pages = max(1, math.ceil(found["counts"].get(shown, 0) / PER_PAGE))
    return page("search.html", q=q, kind=kind, shown=shown, found=found, page_number=page_number, pages=pages)


@bp.route("/centres/<centre_id>")
@login_required
def centre(centre_id: str):
    """The centre and its sites of the caller's scope, a page at a time from the service; ?site= opens the page
    holding that site (a search result or an agrément page links to it so): the service finds it."""
    data = api("GET", "establishments", f"/centres/{centre_id}").data
    params = {"page": _int_arg("page", 1), "per_page": SITES_PER_PAGE}
    if request.args.get("site"):
        params["site"] = request.args["site"]
    listed = api("GET", "establishments", f"/centres/{centre_id}/sites", params=params)
    site_count = int(listed.headers.get("X-Total-Count", 0))
    pages = max(1, math.ceil(site_count / SITES_PER_PAGE))
    page_number = int(listed.headers.get("X-Page", params["page"]))
    if page_number > pages:  # past the end: the last page
        page_number = params["page"] = pages
        params.pop("site", None)
        listed = api("GET", "establishments", f"/centres/{centre_id}/sites", params=params)
    return page("centre.html", centre=data, sites=listed.data or [], site_count=site_count, page_number=page_number,
                pages=pages, agent_roles=AGENTS, may_edit=may_edit_centre(session_user(), data))


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


TARGETS_SHOWN = 10  # E5: the centres found for the transfer, a bounded query (not every centre nor every site)


def _targets(site: dict) -> dict:
    """E5: the centres a search finds (name, SIRET or SIREN, in the agent's scope: E6), to pick the one that receives
    the site; at most TARGETS_SHOWN, the site's own centre left out."""
    q = request.args.get("q", "").strip()
    if not q:
        return {"q": q, "targets": None}
    try:
        found = api("GET", "establishments", "/search",
                    params={"q": q, "type": "CENTRE", "page": 1, "per_page": TARGETS_SHOWN}).data
    except ServiceError as exc:
        if exc.status != 422:
            raise
        return {"q": q, "targets": None, "errors": _query_errors(exc), "error_detail": exc.detail}
    return {"q": q, "targets": [c for c in found["centres"] if c["id"] != site["centre_id"]],
            "target_count": found["counts"].get("CENTRE", 0), "count_label": found["count_labels"].get("CENTRE")}


@bp.route("/sites/<site_id>/transfert", methods=["GET", "POST"])
@allowed(*AGENTS)
def transfer_site(site_id: str):
    """E5: the target centre's SIRET (typed, or picked among the centres a search finds), then a confirmation page
    naming the target (raison sociale, adresse, commune); only the confirmation moves the site, with its
    agréments."""
    site = api("GET", "establishments", f"/sites/{site_id}").data
    siret = request.form.get("siret", "").replace(" ", "").strip()
    form = {"siret": siret}
    if request.method == "GET":
        found = _targets(site)
        return page("transfer.html", 422 if found.get("errors") else 200, site=site, form=form, preview=None,
                    shown=TARGETS_SHOWN, **found)
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


# -- editing a centre (E2, E3) and its sites (E4): mirrors establishments' policy (centre.update, site.write) -------
REPRISE_SIRET = "00000000000000"  # E1: the centre de reprise, edited by the national administration only
CENTRE_FIELDS = ("raison_sociale", "adresse", "code_postal", "commune_code", "type_centre", "reseau",
                 "representant", "commentaires")
SITE_FIELDS = ("name", "adresse", "code_postal", "commune_code", "representant", "siret")
REQUIRED = {"raison_sociale", "adresse", "name", "commune_code"}  # sent even blank: the service says what is wrong


def may_edit_centre(user: dict | None, centre: dict) -> bool:
    """establishments' centre.update: an agent (the scope is that of the centre page already read), the centre de
    reprise for the national administration only."""
    return bool(user) and user["role"] in AGENTS and (centre["siret"] != REPRISE_SIRET or bool(user.get("national")))


def _form(names) -> dict:
    return {k: request.form.get(k, "").strip() for k in names}


def _changes(form: dict, record: dict | None) -> dict:
    """The body of a PATCH or POST: blanks of optional fields are cleared (None); a required field left blank is sent
    as is for the service's message; a commune never set and still blank is not sent."""
    body = {}
    for name, value in form.items():
        if name == "siret":
            value = value.replace(" ", "")
        if name == "commune_code" and not value and record is not None and not record.get("commune_code"):
            continue
        body[name] = value if value or name in REQUIRED else None
    return body


def _record_form(record: dict, names) -> dict:
    """The form of a record being edited: its commune as people know it, « Bourg-en-Bresse (01000) »."""
    form = {k: record.get(k) or "" for k in names}
    form["commune_code"] = communes.shown(record.get("commune_code"), record.get("code_postal"))
    return form


def _body(form: dict, record: dict | None) -> tuple[dict | None, communes.Resolution]:
    """The body to send, the commune typed being resolved to its INSEE code (C3); None when it is not (then the
    resolution's error or choices go back to the form). The postcode follows the commune (communes.postcode_for)."""
    found = communes.resolve_field("commune_code")
    if found.error:
        return None, found
    body = _changes({**form, "commune_code": found.code or ""}, record)
    postcode = communes.postcode_for(found, form["code_postal"], (record or {}).get("code_postal"))
    if postcode != form["code_postal"]:
        body["code_postal"] = postcode
    return body, found


def _unresolved(template: str, found: communes.Resolution, **context):
    return page(template, 422, errors=found.errors,
                error_detail="Précisez la commune." if found.choices else "La commune est introuvable.", **context)


def _version(body: dict) -> dict:
    version = request.form.get("version", "")
    if version.isdigit():
        body["version"] = int(version)
    return body


def _scope_error(exc: ServiceError) -> ServiceError:
    """A site placed out of the agent's territory (E4): the message goes next to the commune that decides it."""
    if exc.code == "out_of_scope" and not exc.errors:
        exc.errors = {"commune_code": [exc.detail]}
    return exc


@bp.route("/centres/<centre_id>/modifier", methods=["GET", "POST"])
@allowed(*AGENTS)
def edit_centre(centre_id: str):
    """E2, E3: the centre's record, editable after its registration by a competent agent (the service checks the
    scope and traces the change)."""
    current = api("GET", "establishments", f"/centres/{centre_id}").data
    if not may_edit_centre(session_user(), current):
        abort(403)
    if request.method == "GET":
        return page("centre_edit.html", centre=current, form=_record_form(current, CENTRE_FIELDS),
                    version=current["version"], types=TYPES_CENTRE)
    form = _form(CENTRE_FIELDS)
    context = {"centre": current, "form": form, "version": request.form.get("version"), "types": TYPES_CENTRE}
    body, found = _body(form, current)
    if body is None:
        return _unresolved("centre_edit.html", found, **context)
    try:
        saved = api("PATCH", "establishments", f"/centres/{centre_id}", json=_version(body)).data
    except ServiceError as exc:
        return form_error("centre_edit.html", exc, **context)
    flash(f"Le centre « {saved['raison_sociale']} » est modifié.", "success")
    return redirect(url_for("web.centre", centre_id=centre_id))


@bp.route("/centres/<centre_id>/sites/nouveau", methods=["GET", "POST"])
@allowed(*AGENTS)
def add_site(centre_id: str):
    """E4: a new site of the centre; its commune fixes the competent UD and DREETS (the agent's territory)."""
    centre_data = api("GET", "establishments", f"/centres/{centre_id}").data
    if not may_edit_centre(session_user(), centre_data):  # the centre de reprise: national only (as the service)
        abort(403)
    form = _form(SITE_FIELDS)
    context = {"centre": centre_data, "site": None, "form": form, "version": None}
    if request.method == "GET":
        return page("site_form.html", **context)
    body, found = _body(form, None)
    if body is None:
        return _unresolved("site_form.html", found, **context)
    try:
        created = api("POST", "establishments", f"/centres/{centre_id}/sites", json=body).data
    except ServiceError as exc:
        return form_error("site_form.html", _scope_error(exc), **context)
    flash(f"Le site « {created['name']} » est ajouté au centre.", "success")
    return redirect(url_for("web.centre", centre_id=centre_id, site=created["id"]))


def _open_site(site_id: str) -> tuple[dict, dict]:
    """The site and its centre; a closed site is changed no more (the service answers « fermé »)."""
    site = api("GET", "establishments", f"/sites/{site_id}").data
    if site.get("closed_at"):
        flash(f"Le site « {site['name']} » est fermé : il n'est plus modifiable.", "info")
        abort(redirect(url_for("web.centre", centre_id=site["centre_id"], site=site_id)))
    return site, api("GET", "establishments", f"/centres/{site['centre_id']}").data


@bp.route("/sites/<site_id>/modifier", methods=["GET", "POST"])
@allowed(*AGENTS)
def edit_site(site_id: str):
    """E4: name, address, commune, représentant, SIRET of a site of the agent's territory (not moved out of it)."""
    site, centre_data = _open_site(site_id)
    if request.method == "GET":
        return page("site_form.html", centre=centre_data, site=site, form=_record_form(site, SITE_FIELDS),
                    version=site["version"])
    form = _form(SITE_FIELDS)
    context = {"centre": centre_data, "site": site, "form": form, "version": request.form.get("version")}
    body, found = _body(form, site)
    if body is None:
        return _unresolved("site_form.html", found, **context)
    try:
        saved = api("PATCH", "establishments", f"/sites/{site_id}", json=_version(body)).data
    except ServiceError as exc:
        return form_error("site_form.html", _scope_error(exc), **context)
    flash(f"Le site « {saved['name']} » est modifié.", "success")
    return redirect(url_for("web.centre", centre_id=saved["centre_id"], site=site_id))


@bp.route("/sites/<site_id>/fermer", methods=["GET", "POST"])
@allowed(*AGENTS)
def close_site(site_id: str):
    """E4: closing a site cannot be undone: a confirmation page first, the reason kept in the trace."""
    site, centre_data = _open_site(site_id)
    form = _form(("closed_at", "reason"))
    context = {"centre": centre_data, "site": site, "form": form}
    if request.method == "GET":
        return page("site_close.html", **context)
    body = {"closed_at": form["closed_at"] or None, "reason": form["reason"] or None}
    try:
        closed = api("POST", "establishments", f"/sites/{site_id}/close", json=body).data
    except ServiceError as exc:
        return form_error("site_close.html", exc, **context)
    flash(f"Le site « {closed['name']} » est fermé depuis le {long_date(closed['closed_at'])}.", "success")
    return redirect(url_for("web.centre", centre_id=closed["centre_id"], site=site_id))
