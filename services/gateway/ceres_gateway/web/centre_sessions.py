"""The centre's exam sessions (S1–S8) through the sessions, establishments and candidates APIs: create a session on
a site holding a valid agrément, the list with status and public id, enrol candidates (with the C1 duplicate
warning), the jury, the DTE request, the convocations, the real end date, the results. The services decide (the
workflow table, with the caller's scope); the pages offer the actions the service lists and show its reasons."""
from __future__ import annotations

import calendar
import math
import time
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import flash, redirect, request, url_for

from . import communes
from .agent_sessions import (ACTION_LABELS, SORTS, STATUS_LABELS,  # day_fr: the templates' date filters
                             day_fr, list_page)
from .agent_printing import page_arg
from .blueprint import allowed, api, bp, current_user, page, refusal_status
from .client import ServiceError
from .roles import CENTRES

PARIS = ZoneInfo("Europe/Paris")
DEFAULT_HOUR = "08:00"  # S2: a session starts at 08:00 unless the centre says otherwise
DECISIONS = (("titre", "Titre obtenu"), ("partiel", "Réussite partielle (CCP obtenus)"), ("ajourne", "Ajourné(e)"),
             ("absent", "Absent(e)"))
GENRES = (("F", "Femme"), ("M", "Homme"))
CENTRE_COLUMNS = tuple(k for k in SORTS if k != "departement")  # the centre's list shows no département
ENROL_WAIT_S = 5.0  # a new record reaches the sessions service by event, in well under a second here
SEARCH_WINDOW = 200  # the candidates service ranks at most this many matches of a search
FOUND_PER_PAGE = 20


def months_before(day: date, months: int) -> date:
    """S4's deadlines (3 months for the DTE, 1 for the convocations), the same day of an earlier month."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _deadlines(s: dict) -> dict:
    starts_on = datetime.fromisoformat(s["starts_at"]).astimezone(PARIS).date()
    return {"dte": months_before(starts_on, 3), "convocations": months_before(starts_on, 1)}


def _titres() -> dict[str, dict]:
    """code → latest version of the catalogue (libellé, CCPs)."""
    latest: dict[str, dict] = {}
    for titre in api("GET", "sessions", "/titres").data or []:
        if titre["code"] not in latest or titre["version_date"] > latest[titre["code"]]["version_date"]:
            latest[titre["code"]] = titre
    return latest


def _offers(titres: dict[str, dict]) -> list[tuple[str, str]]:
    """S1: the (site, titre) pairs of the user's centres whose agrément is granted and valid today (one call: the
    sessions service holds the agréments it checks on creation)."""
    offers = []
    for offer in api("GET", "sessions", "/sessions/offres").data:
        code = offer["titre_code"]
        label = titres.get(code, {}).get("libelle", "")
        until = f" (agrément jusqu'au {day_fr(offer['valid_until'])})" if offer.get("valid_until") else ""
        offers.append((f"{offer['site_id']}|{code}", f"{offer['site']} — {code} {label}{until}"))
    return offers


def _session(session_id: str) -> dict:
    return api("GET", "sessions", f"/sessions/{session_id}").data


@bp.route("/centre/sessions")
@allowed(*CENTRES)
def centre_sessions():
    """The centre's sessions, filtered (the dashboard's counts open it so, S10), sorted by a column, by pages."""
    return list_page("centre/sessions.html", CENTRE_COLUMNS, titres=_titres())


def _session_form_errors(form: dict) -> dict[str, list[str]]:
    errors = {}
    if not form["offre"]:
        errors["offre"] = ["Choisissez le site et le titre de la session."]
    for name in ("starts_on", "ends_on"):
        try:
            date.fromisoformat(form[name]) if form[name] else None
        except ValueError:
            errors[name] = ["Date invalide (format attendu : JJ/MM/AAAA)."]
    if not form["starts_on"]:
        errors["starts_on"] = ["Saisissez la date de début de la session."]
    try:
        datetime.strptime(form["heure"], "%H:%M")
    except ValueError:
        errors["heure"] = ["Heure invalide (format attendu : HH:MM)."]
    return errors


@bp.route("/centre/sessions/nouvelle", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_session_new():
    titres = _titres()
    offers = _offers(titres)
    form = {"offre": request.form.get("offre", ""), "starts_on": request.form.get("starts_on", "").strip(),
            "ends_on": request.form.get("ends_on", "").strip(),
            "heure": request.form.get("heure", "").strip() or DEFAULT_HOUR}
    context = {"form": form, "offers": offers}
    if request.method == "GET":
        return page("centre/session_new.html", **context)
    errors = _session_form_errors(form)
    if errors:
        return page("centre/session_new.html", 422, errors=errors, error_detail="Certaines données sont invalides.",
                    **context)
    site_id, _, titre_code = form["offre"].partition("|")
    body = {"site_id": site_id, "titre_code": titre_code, "starts_on": form["starts_on"]}
    if form["ends_on"]:
        body["ends_on"] = form["ends_on"]
    if form["heure"] != DEFAULT_HOUR:
        start = datetime.combine(date.fromisoformat(form["starts_on"]),
                                 datetime.strptime(form["heure"], "%H:%M").time(), tzinfo=PARIS)
        body["starts_at"] = start.isoformat()
    try:
        created = api("POST", "sessions", "/sessions", json=body).data
    except ServiceError as exc:
        errors = dict(exc.errors)
        for service_field, form_field in (("site_id", "offre"), ("titre_code", "offre"), ("starts_at", "heure")):
            if service_field in errors:
                errors.setdefault(form_field, []).extend(errors.pop(service_field))
        status = exc.status if exc.status in (404, 409, 422) else 503
        return page("centre/session_new.html", status, errors=errors, error_detail=exc.detail, **context)
    flash(f"La session {created['public_id']} est créée (en préparation).", "success")
    return redirect(url_for("web.centre_session", session_id=created["id"]))


def _session_page(session_id: str, status: int = 200, **extra):
    s = _session(session_id)
    return page("centre/session.html", status, s=s, deadlines=_deadlines(s), titre=_titres().get(s["titre_code"]),
                decisions=dict(DECISIONS), action_labels=ACTION_LABELS, status_labels=STATUS_LABELS, **extra)


@bp.route("/centre/sessions/<session_id>")
@allowed(*CENTRES)
def centre_session(session_id: str):
    return _session_page(session_id)


def _refused(session_id: str, exc: ServiceError, **extra):
    """Re-show the session with the service's reason at the top (and its field errors)."""
    status = refusal_status(exc)
    return _session_page(session_id, status, errors=exc.errors, error_detail=exc.detail, **extra)


# --- S4: the DTE request and the convocations, each after a confirmation ------------------------------------------
@bp.route("/centre/sessions/<session_id>/demande-dte", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_session_dte(session_id: str):
    s = _session(session_id)
    enrolled = sum(1 for c in s["candidats"] if c["state"] != "retire")
    raw = request.form.get("candidate_count", str(enrolled)).strip()
    form = {"candidate_count": raw}
    context = {"s": s, "deadlines": _deadlines(s), "form": form, "step": "dte"}
    if request.method == "GET":
        return page("centre/session_confirm.html", **context)
    if not raw.isdigit():
        return page("centre/session_confirm.html", 422, errors={"candidate_count": [
            "Saisissez un nombre de candidats (0 si le matériel a déjà été reçu)."]},
            error_detail="Le nombre de candidats est invalide.", **context)
    try:
        api("POST", "sessions", f"/sessions/{session_id}/demande-dte", json={"candidate_count": int(raw)})
    except ServiceError as exc:
        return page("centre/session_confirm.html", refusal_status(exc),
                    errors=exc.errors, error_detail=exc.detail, **context)
    flash(f"La demande de DTE est envoyée pour {int(raw)} candidat(s).", "success")
    return redirect(url_for("web.centre_session", session_id=session_id))


@bp.route("/centre/sessions/<session_id>/convocations", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_session_convocations(session_id: str):
    s = _session(session_id)
    context = {"s": s, "deadlines": _deadlines(s), "form": {}, "step": "convocations"}
    if request.method == "GET":
        return page("centre/session_confirm.html", **context)
    try:
        api("POST", "sessions", f"/sessions/{session_id}/convocations")
    except ServiceError as exc:
        return page("centre/session_confirm.html", exc.status if exc.status in (403, 404, 409) else 503,
                    error_detail=exc.detail, **context)
    flash("Les convocations sont envoyées.", "success")
    return redirect(url_for("web.centre_session", session_id=session_id))


# --- S6: the real end date ---------------------------------------------------------------------------------------
@bp.route("/centre/sessions/<session_id>/date-fin-reelle", methods=["POST"])
@allowed(*CENTRES)
def centre_session_real_end(session_id: str):
    raw = request.form.get("real_end_date", "").strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return _refused(session_id, ServiceError(422, "La date réelle de fin est invalide.", {
            "real_end_date": ["Saisissez la date réelle de fin de la session (JJ/MM/AAAA)."]}), real_end=raw)
    try:
        api("POST", "sessions", f"/sessions/{session_id}/date-fin-reelle", json={"real_end_date": day.isoformat()})
    except ServiceError as exc:
        if exc.status == 409:  # the table's reason concerns the date typed: show it next to the field too
            exc.errors.setdefault("real_end_date", [exc.detail])
        return _refused(session_id, exc, real_end=raw)
    flash(f"La date réelle de fin ({day_fr(day)}) est enregistrée.", "success")
    return redirect(url_for("web.centre_session", session_id=session_id))


# --- S7: the jury --------------------------------------------------------------------------------------------------
@bp.route("/centre/sessions/<session_id>/jury", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_session_jury(session_id: str):
    s = _session(session_id)
    if request.method == "POST":
        try:
            api("POST", "sessions", f"/sessions/{session_id}/jury", json={"jure_id": request.form.get("jure_id", "")})
        except ServiceError as exc:
            habilites = api("GET", "sessions", f"/sessions/{session_id}/jures-a-convoquer").data
            return page("centre/session_jury.html", refusal_status(exc), s=s,
                        habilites=habilites, errors=exc.errors, error_detail=exc.detail)
        flash("Le juré est ajouté au jury.", "success")
        return redirect(url_for("web.centre_session_jury", session_id=session_id))
    habilites = api("GET", "sessions", f"/sessions/{session_id}/jures-a-convoquer").data
    return page("centre/session_jury.html", s=s, habilites=habilites)


@bp.route("/centre/sessions/<session_id>/jury/<jure_id>/retrait", methods=["POST"])
@allowed(*CENTRES)
def centre_session_jury_remove(session_id: str, jure_id: str):
    api("DELETE", "sessions", f"/sessions/{session_id}/jury/{jure_id}")
    flash("Le juré est retiré du jury.", "success")
    return redirect(url_for("web.centre_session_jury", session_id=session_id))


# --- candidates: find or create (C1), then enrol ---------------------------------------------------------------
FRANCE, FRANCE_LABEL = "99100", "FRANCE"
PERSON_FIELDS = ("genre", "nom_naissance", "nom_usage", "prenoms", "birth_date", "birth_country_code",
                 "birth_commune_code")
# C2, P6: where the documents are posted, and how the centre reaches the candidate.
CONTACT_FIELDS = ("address.lines.0", "address.lines.1", "address.code_postal", "address.commune_code",
                  "address.commune_label", "address.country", "email", "phone")
ADDRESS_LINE_MAX = 38  # a postal line (the candidates service checks it too)
ADDRESS_COMMUNE = "address.commune_insee"  # the code the typed « Commune » resolved to (communes.py)


def _countries() -> list[tuple[str, str]]:
    """INSEE's countries (code, label) from the candidates service, France first: a select, not a code to type."""
    listed = api("GET", "candidates", "/countries").data["countries"]
    return sorted(((c["code"], c["label"]) for c in listed), key=lambda c: (c[0] != FRANCE, c[1]))


def _address(form: dict) -> dict | None:
    """The postal address typed, as the candidates service takes it; None when nothing of it was typed."""
    lines = [line for line in (form["address.lines.0"], form["address.lines.1"]) if line]
    country = form["address.country"] or FRANCE_LABEL
    if not lines and not any(form[k] for k in ("address.code_postal", "address.commune_code",
                                                "address.commune_label")):
        return None
    in_france = country == FRANCE_LABEL
    return {"lines": lines, "code_postal": form["address.code_postal"], "country": country,
            "commune_code": form.get(ADDRESS_COMMUNE) if in_france else None,
            "commune_label": form["address.commune_label"] or None}


def _contact_errors(form: dict, record: dict | None = None) -> dict[str, list[str]]:
    """The form's own checks; the commune typed (in France) resolved to its INSEE code (C3), kept in the form."""
    errors = {}
    if (form["address.country"] or FRANCE_LABEL) == FRANCE_LABEL:
        found = communes.resolve_field("address.commune_code")
        errors.update(found.errors)
        form[ADDRESS_COMMUNE] = found.code
        form["address.code_postal"] = communes.postcode_for(found, form["address.code_postal"], (
            (record or {}).get("address") or {}).get("code_postal"))
    for name in ("address.lines.0", "address.lines.1"):
        if len(form[name]) > ADDRESS_LINE_MAX:
            errors[name] = [f"{ADDRESS_LINE_MAX} caractères au plus par ligne (norme postale) : continuez sur la "
                            "ligne suivante."]
    return errors


def _contact_body(form: dict) -> dict:
    """Nom d'usage, email and phone as typed (empty: none), and the address when one was typed."""
    body = {name: form[name] or None for name in ("nom_usage", "email", "phone") if name in form}
    address = _address(form)
    if address is not None:
        body["address"] = address
    return body


def _field_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The service's keys → the form's fields: « prenoms.1 » on Prénoms, « address.lines » and « address » (no
    address, C5) on the first address line."""
    fields: dict[str, list[str]] = {}
    for key, messages in errors.items():
        if key.startswith("prenoms."):
            key = "prenoms"
        elif key in ("address", "address.lines"):
            key = "address.lines.0"
        fields.setdefault(key, []).extend(messages)
    return fields


def _person_body(form: dict) -> tuple[dict, dict[str, list[str]]]:
    errors = _contact_errors(form)
    for name, message in (("genre", "Choisissez le genre."), ("nom_naissance", "Saisissez le nom de naissance."),
                          ("prenoms", "Saisissez au moins un prénom."),
                          ("birth_date", "Saisissez la date de naissance.")):
        if not form[name]:
            errors[name] = [message]
    country = form["birth_country_code"] or FRANCE
    birth = None
    if country == FRANCE and not form["birth_commune_code"]:
        errors["birth_commune_code"] = ["Saisissez la commune de naissance (né(e) en France) : son nom ou son code "
                                        "postal."]
    elif country != FRANCE and form["birth_commune_code"]:
        errors["birth_commune_code"] = ["Une commune de naissance ne se saisit que pour une personne née en France : "
                                        "laissez ce champ vide."]
    elif country == FRANCE:  # C3: the communes as they were on the birth date, those that no longer exist too
        birth = communes.resolve_field("birth_commune_code", communes.day(form["birth_date"]))
        errors.update(birth.errors)
    body = {"genre": form["genre"], "nom_naissance": form["nom_naissance"],
            "prenoms": [p.strip() for p in form["prenoms"].split(",") if p.strip()],
            "birth_date": form["birth_date"], "birth_country_code": country, **_contact_body(form)}
    if birth and birth.code:
        body["birth_commune_code"] = birth.code
    return body, errors


def _enrol(session_id: str, candidate_id: int) -> None:
    """Enrol; a record created a moment ago may not have reached the sessions service yet (by event): wait a
    little for it rather than refuse."""
    deadline = time.monotonic() + ENROL_WAIT_S
    while True:
        try:
            api("POST", "sessions", f"/sessions/{session_id}/candidats", json={"candidate_id": candidate_id})
            return
        except ServiceError as exc:
            if exc.status != 422 or "candidate_id" not in exc.errors or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _found_page(q: str, number: int) -> dict:
    return api("GET", "candidates", "/candidates", params={
        "q": q, "limit": FOUND_PER_PAGE, "offset": (number - 1) * FOUND_PER_PAGE}).data


@bp.route("/centre/sessions/<session_id>/candidats", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_session_candidates(session_id: str):
    s = _session(session_id)
    q = request.args.get("q", "").strip()
    form = {k: request.form.get(k, "").strip() for k in PERSON_FIELDS + CONTACT_FIELDS}
    form["birth_country_code"] = form["birth_country_code"] or FRANCE
    form["address.country"] = form["address.country"] or FRANCE_LABEL
    number = page_arg()
    countries = _countries()
    context = {"s": s, "q": q, "form": form, "genres": GENRES, "countries": countries, "found": None,
               "address_countries": [(label, label) for _, label in countries], "duplicates": None,
               "page_number": number, "pages": 1}
    errors: dict[str, list[str]] = {}
    if q:
        try:
            number = min(number, math.ceil(SEARCH_WINDOW / FOUND_PER_PAGE))  # its offset stays in the window
            found = _found_page(q, number)
            pages = max(1, math.ceil(found["total"] / FOUND_PER_PAGE))
            if number > pages:  # past the last page: the last one
                number = pages
                found = _found_page(q, number)
        except ServiceError as exc:
            if exc.status != 422:
                raise
            errors["q"] = exc.errors.get("q") or [exc.detail]
        else:  # the service answers one page of its best matches and how many it found
            context.update(found=found["results"], found_count=found["total"], page_number=number, pages=pages,
                           capped=found["capped"])
    if request.method == "GET":
        return page("centre/session_candidates.html", 422 if errors else 200, errors=errors,
                    error_detail="La recherche n'a pas pu être faite." if errors else None, **context)
    if request.form.get("candidate_id"):  # enrol an existing record (from the search or the duplicate warning)
        candidate_id = int(request.form["candidate_id"]) if request.form["candidate_id"].isdigit() else 0
        try:
            _enrol(session_id, candidate_id)
        except ServiceError as exc:
            status = refusal_status(exc)
            return page("centre/session_candidates.html", status, errors=exc.errors, error_detail=exc.detail,
                        **context)
        flash(f"Le candidat n° {candidate_id} est inscrit à la session.", "success")
        return redirect(url_for("web.centre_session", session_id=session_id))
    body, errors = _person_body(form)
    if errors:
        return page("centre/session_candidates.html", 422, errors=errors,
                    error_detail="Certaines données du candidat sont manquantes ou invalides.", **context)
    try:
        created = api("POST", "candidates", "/candidates", json=body).data
    except ServiceError as exc:
        if exc.code == "probable_duplicate":  # C1: show the records that already exist, to enrol one of them
            check = {k: body[k] for k in ("nom_naissance", "prenoms", "birth_date", "birth_country_code")}
            check["birth_commune_code"] = body.get("birth_commune_code")
            context["duplicates"] = api("POST", "candidates", "/candidates/duplicates", json=check).data["duplicates"]
        status = exc.status if exc.status in (403, 409, 422) else 503
        return page("centre/session_candidates.html", status, errors=_field_errors(exc.errors),
                    error_detail=exc.detail, **context)
    try:
        _enrol(session_id, created["id"])
    except ServiceError as exc:
        flash(f"Le dossier n° {created['id']} est créé, mais l'inscription a été refusée : {exc.detail}", "warning")
        return redirect(url_for("web.centre_session", session_id=session_id))
    flash(f"Le dossier n° {created['id']} ({created['nom_naissance']} {' '.join(created['prenoms'])}) est créé et "
          "inscrit à la session.", "success")
    if not created.get("address"):
        flash(NO_ADDRESS, "warning")
    return redirect(url_for("web.centre_session", session_id=session_id))


NO_ADDRESS = ("Ce dossier n'a pas d'adresse postale : complétez-la (« Compléter le dossier ») avant l'impression, "
              "les documents sont envoyés par la poste au candidat (P6).")


def _contact_form(record: dict) -> dict:
    address = record.get("address") or {}
    lines = list(address.get("lines") or []) + ["", ""]
    return {"nom_usage": record.get("nom_usage") or "", "email": record.get("email") or "",
            "phone": record.get("phone") or "", "address.lines.0": lines[0], "address.lines.1": lines[1],
            "address.code_postal": address.get("code_postal") or "",
            "address.commune_code": communes.shown(address.get("commune_code"), address.get("code_postal")),
            "address.commune_label": address.get("commune_label") or "",
            "address.country": address.get("country") or FRANCE_LABEL}


@bp.route("/centre/sessions/<session_id>/candidats/<int:candidate_id>/dossier", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_session_candidate_record(session_id: str, candidate_id: int):
    """C2, P6: the centre completes the record of a candidate it enrolled — postal address (the documents are
    posted to it: printing refuses a request without one), email, phone, nom d'usage. The candidates service
    decides (scope: a record the centre created or enrolled) and checks each field. C4: a validated record is
    reopened as a draft for the change, then validated again."""
    s = _session(session_id)
    if not any(c["candidate_id"] == candidate_id and c["state"] != "retire" for c in s["candidats"]):
        return page("error.html", 404, title="Introuvable", message="Ce candidat n'est pas inscrit à la session.")
    base = f"/candidates/{candidate_id}"
    record = api("GET", "candidates", base).data
    context = {"s": s, "record": record, "address_countries": [(label, label) for _, label in _countries()]}
    if request.method == "GET":
        return page("centre/session_candidate_record.html", form=_contact_form(record), **context)
    form = {k: request.form.get(k, "").strip() for k in ("nom_usage",) + CONTACT_FIELDS}
    form["address.country"] = form["address.country"] or FRANCE_LABEL
    errors = _contact_errors(form, record)
    if not form["address.lines.0"]:
        errors["address.lines.0"] = ["Saisissez l'adresse postale (numéro et voie) : les documents sont envoyés par "
                                     "la poste au candidat."]
    if errors:
        return page("centre/session_candidate_record.html", 422, form=form, errors=errors,
                    error_detail="Certaines données sont manquantes ou invalides.", **context)
    reopened = record["status"] != "brouillon"
    try:
        if reopened:  # C4: a validated record is read-only until it is reopened
            api("POST", "candidates", f"{base}/brouillon")
        api("PATCH", "candidates", base, json=_contact_body(form))
    except ServiceError as exc:
        if reopened:  # the change was refused: the record goes back as it was (validated)
            api("POST", "candidates", f"{base}/validation")
        status = exc.status if exc.status in (400, 409, 422) else 503
        return page("centre/session_candidate_record.html", status, form=form, errors=_field_errors(exc.errors),
                    error_detail=exc.detail, **context)
    if reopened:
        api("POST", "candidates", f"{base}/validation")
    flash(f"Le dossier n° {candidate_id} ({record['nom_naissance']}) est complété.", "success")
    return redirect(url_for("web.centre_session", session_id=session_id))


# --- a candidate withdrawn, or marked absent: each after a confirmation page -----------------------------------
CANDIDATE_STEPS = {
    # step: (method, API path suffix, the message once done)
    "retrait": ("DELETE", "", "{name} est retiré(e) de la session."),
    "absence": ("POST", "/absence", "{name} est marqué(e) absent(e) : sa décision du jury sera « absent »."),
}


def _person(c: dict) -> str:
    prenoms = c.get("prenoms") or []
    return " ".join(filter(None, [c.get("nom"), " ".join(prenoms) if isinstance(prenoms, list) else prenoms])) or \
        f"Le candidat n° {c['candidate_id']}"


@bp.route("/centre/sessions/<session_id>/candidats/<int:candidate_id>/<any(retrait, absence):step>",
          methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_session_candidate_step(session_id: str, candidate_id: int, step: str):
    """Withdraw a candidate from the session, or mark them absent (then the jury's decision can only be « absent »,
    S8): a page says what follows before the change; the service decides (status, scope) and its refusal is shown
    here, in its words."""
    s = _session(session_id)
    candidate = next((c for c in s["candidats"] if c["candidate_id"] == candidate_id), None)
    context = {"s": s, "step": step, "candidate_id": candidate_id,
               "name": _person(candidate) if candidate else f"Le candidat n° {candidate_id}"}
    if candidate is None or candidate["state"] == "retire":
        return page("centre/session_candidate_confirm.html", 404, gone=True,
                    error_detail="Ce candidat n'est pas inscrit à la session.", **context)
    if request.method == "GET":
        return page("centre/session_candidate_confirm.html", **context)
    method, suffix, done = CANDIDATE_STEPS[step]
    try:
        api(method, "sessions", f"/sessions/{session_id}/candidats/{candidate_id}{suffix}")
    except ServiceError as exc:
        status = refusal_status(exc)
        return page("centre/session_candidate_confirm.html", status, errors=exc.errors, error_detail=exc.detail,
                    refused=True, **context)
    flash(done.format(name=context["name"]), "success")
    return redirect(url_for("web.centre_session", session_id=session_id))


# --- S5: the centre changes the dates while the session is « en préparation » ------------------------------------
def _paris(moment: str) -> datetime:
    return datetime.fromisoformat(moment).astimezone(PARIS)


def _dates_form_errors(form: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    days = {}
    for name, label in (("starts_on", "de début"), ("ends_on", "de fin")):
        try:
            days[name] = date.fromisoformat(form[name])
        except ValueError:
            errors[name] = [f"Saisissez la date {label} (JJ/MM/AAAA)."]
    try:
        datetime.strptime(form["heure"], "%H:%M")
    except ValueError:
        errors["heure"] = ["Heure invalide (format attendu : HH:MM)."]
    if len(days) == 2 and days["ends_on"] < days["starts_on"]:
        errors["ends_on"] = ["La date de fin ne peut pas précéder la date de début."]
    return errors


@bp.route("/centre/sessions/<session_id>/dates", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_session_dates(session_id: str):
    """S5: the start date (and the end) move only while the session is « en préparation »; afterwards the UD alone
    may postpone it. The convocation moves with the start (the service shifts it)."""
    s = _session(session_id)
    starts, ends = _paris(s["starts_at"]), _paris(s["ends_at"])
    form = {"starts_on": request.form.get("starts_on", starts.date().isoformat()).strip(),
            "heure": request.form.get("heure", starts.strftime("%H:%M")).strip(),
            "ends_on": request.form.get("ends_on", ends.date().isoformat()).strip(),
            "reason": request.form.get("reason", "").strip()}
    context = {"s": s, "form": form, "allowed": "modifier_dates" in s["actions"]}
    if request.method == "GET":
        return page("centre/session_dates.html", **context)
    errors = _dates_form_errors(form)
    if errors:
        return page("centre/session_dates.html", 422, errors=errors, error_detail="Certaines dates sont invalides.",
                    **context)
    new_start = datetime.combine(date.fromisoformat(form["starts_on"]),
                                 datetime.strptime(form["heure"], "%H:%M").time(), tzinfo=PARIS)
    new_end = datetime.combine(date.fromisoformat(form["ends_on"]), ends.time(), tzinfo=PARIS)  # its hour stays
    body = {"starts_at": new_start.isoformat(), "ends_at": new_end.isoformat(), "reason": form["reason"] or None}
    try:
        api("PATCH", "sessions", f"/sessions/{session_id}/dates", json=body)
    except ServiceError as exc:
        errors = dict(exc.errors)
        if exc.status == 409 and exc.code == "S5":  # a date refused (not the status): shown next to the start too
            errors.setdefault("starts_on", [exc.detail])
        status = refusal_status(exc)
        s = _session(session_id)  # as it is now: a refusal for its status hides the form, the reason stays
        return page("centre/session_dates.html", status, errors=errors, error_detail=exc.detail,
                    **dict(context, s=s, allowed="modifier_dates" in s["actions"]))
    flash(f"Les dates sont modifiées : la session commence le {new_start:%d/%m/%Y à %H:%M} et finit le "
          f"{new_end:%d/%m/%Y}.", "success")
    return redirect(url_for("web.centre_session", session_id=session_id))


# --- S8: the results -----------------------------------------------------------------------------------------------
@bp.route("/centre/sessions/<session_id>/resultats", methods=["GET", "POST"])
@allowed(*CENTRES)
def centre_session_results(session_id: str):
    s = _session(session_id)
    titre = _titres().get(s["titre_code"]) or {"ccps": []}
    candidates = [c for c in s["candidats"] if c["state"] != "retire"]
    context = {"s": s, "titre": titre, "candidates": candidates, "decisions": DECISIONS}
    if request.method == "GET":
        chosen = {c["candidate_id"]: {"decision": c["decision"] or "", "ccps": c["ccps_obtained"]} for c in candidates}
        return page("centre/session_results.html", chosen=chosen, **context)
    chosen, results, errors = {}, [], {}
    for index, c in enumerate(candidates):
        cid = c["candidate_id"]
        decision = request.form.get(f"decision-{cid}", "")
        ccps = request.form.getlist(f"ccps-{cid}")
        chosen[cid] = {"decision": decision, "ccps": ccps}
        if decision:
            results.append({"candidate_id": cid, "decision": decision, "ccps_obtained": ccps})
    if not results:
        errors["_"] = ["Choisissez la décision du jury pour chaque candidat."]
        return page("centre/session_results.html", 422, chosen=chosen, errors=errors,
                    error_detail="Aucune décision n'a été saisie.", **context)
    step = request.form.get("etape")
    if step != "confirmer":  # the centre cannot change them once saved: read them back before saving (S8)
        return page("centre/session_results.html", chosen=chosen, confirm=step != "modifier",
                    undecided=[c for c in candidates if not chosen[c["candidate_id"]]["decision"]], **context)
    try:
        api("PUT", "sessions", f"/sessions/{session_id}/resultats", json={"results": results})
    except ServiceError as exc:
        # results.<i>.decision → the field of that candidate
        for key, messages in exc.errors.items():
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "results" and parts[1].isdigit() and int(parts[1]) < len(results):
                errors[f"decision-{results[int(parts[1])]['candidate_id']}"] = messages
            else:
                errors[key] = messages
        status = refusal_status(exc)
        return page("centre/session_results.html", status, chosen=chosen, errors=errors, error_detail=exc.detail,
                    **context)
    flash("Les résultats sont enregistrés : la session attend la validation de l'unité départementale.", "success")
    return redirect(url_for("web.centre_session", session_id=session_id))
