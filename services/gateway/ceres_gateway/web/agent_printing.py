"""The printing workflow of the agents, through the printing API: the dashboard counts (P9) and their lists, a
validated session's candidates with their documents' state (P1), one candidate at a time with previous / next, the
preview PDF (P2), « Données vérifiées et conformes » then « Envoyer pour impression » (P3, the next candidate
opens), the duplicata after 7 days (P5), the attestation de réussite (P4), and the PNDs to follow (P7) — for one
session, and for the whole scope. And the Afpa operator's pages: the batches to print (P6), their acknowledgement,
the documents' fate (B3, P7)."""
from __future__ import annotations

import math
import re

from flask import Response, abort, flash, redirect, request, url_for

from ceres_shared.documents.french import date_numeric_fr

from .blueprint import allowed, api, as_menu, bp, page, raw
from .client import ServiceError
from .pages import is_document_number
from .roles import AFPA, AGENTS

PROGRESS = {"sans_demande": "Sessions validées sans demande d'impression",
            "partielles": "Sessions aux demandes d'impression partielles"}
DECISIONS = {"titre": "Titre obtenu", "partiel": "Réussite partielle", "ajourne": "Ajourné", "absent": "Absent"}
ITEM_STATUS = {"queued": "en file", "requested": "demandé", "printed": "imprimé", "posted": "posté",
               "pnd": "pli non distribuable (PND)", "delivered": "distribué"}


def _candidates(session_id: str) -> dict:
    return api("GET", "printing", f"/sessions/{session_id}/candidates").data


def file_from(service: str, path: str, filename: str, disposition: str, mimetype: str = "application/pdf",
              passed_headers: tuple[str, ...] = (), method: str = "GET", **kwargs) -> Response:
    """A file (PDF, zip) from a service, passed through with the user's token (the JSON client carries no bytes)."""
    answer = raw(method, service, path, accept=mimetype, **kwargs)
    if answer.status_code != 200 or answer.headers.get("Content-Type", "").split(";")[0] != mimetype:
        body = answer.json() if answer.headers.get("Content-Type", "").endswith("json") else {}
        raise ServiceError(answer.status_code, body.get("detail") or "Le document n'a pas pu être produit.")
    headers = {name: answer.headers[name] for name in passed_headers if name in answer.headers}
    return Response(answer.content, mimetype=mimetype,
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"',
                             "Cache-Control": "no-store", **headers})  # personal data: never kept by a cache


def pdf_from(service: str, path: str, filename: str, disposition: str) -> Response:
    return file_from(service, path, filename, disposition)


SESSIONS_PER_PAGE = 20


@bp.route("/agent/impressions")
@allowed(*AGENTS)
def agent_printing_board():
    """P9: the two counts of the scope, each opening its list, by pages: the service answers one page of the scope
    (the whole country for the DGEFP) and its total."""
    board = api("GET", "printing", "/dashboard").data
    progress = request.args.get("suivi")
    listed, total, number, pages = None, 0, page_arg(), 1
    if progress in PROGRESS:
        def one(number):
            return api("GET", "printing", "/sessions", params={"progress": progress, "page": number,
                                                               "per_page": SESSIONS_PER_PAGE}).data
        answer = one(number)
        total = answer["total"]
        pages = max(1, math.ceil(total / SESSIONS_PER_PAGE))
        if number > pages:  # a page past the end (the list shrank, or a typed address): its last page
            number = pages
            answer = one(number)
        listed = answer["sessions"]
    return page("agent/printing_board.html", board=board, progress=progress, listed=listed, total=total,
                page_number=number, pages=pages, labels=PROGRESS)


@bp.route("/agent/impressions/sessions/<session_id>")
@allowed(*AGENTS)
def agent_print_session(session_id: str):
    """P1: the session's candidates with the state of their documents, the P4/P5 mentions and the PNDs (P7)."""
    data = _candidates(session_id)
    return page("agent/print_session.html", vs=data["session"], candidates=data["candidates"], decisions=DECISIONS,
                item_status=ITEM_STATUS)


def _candidate_page(session_id: str, candidate_id: int, status: int = 200, **context):
    c = api("GET", "printing", f"/sessions/{session_id}/candidates/{candidate_id}").data
    summary = _candidates(session_id)["session"]
    return page("agent/print_candidate.html", status, vs=summary, c=c, decisions=DECISIONS,
                item_status=ITEM_STATUS, **context)


@bp.route("/agent/impressions/sessions/<session_id>/candidats/<int:candidate_id>")
@allowed(*AGENTS)
def agent_print_candidate(session_id: str, candidate_id: int):
    return _candidate_page(session_id, candidate_id)


# An original number reprinted (P8) may hold slashes: a path, its shape checked as printing checks it.
@bp.route("/agent/impressions/sessions/<session_id>/candidats/<int:candidate_id>/documents/<path:number>.pdf")
@allowed(*AGENTS)
def agent_print_preview(session_id: str, candidate_id: int, number: str):
    """P2: the preview, read-only (no stamp, signature, Marque État, watermark), opened by the browser."""
    if not is_document_number(number):
        return page("error.html", 404, title="Introuvable",
                    message="Ce numéro de document n'a pas la forme des numéros imprimés (lettres et chiffres, "
                            "séparés au besoin par un tiret, une barre oblique ou un point).")
    filename = re.sub(r"[/.]", "-", number)  # a file name holds no slash
    return pdf_from("printing", f"/sessions/{session_id}/candidates/{candidate_id}/documents/{number}/preview",
                    f"apercu-{filename}.pdf", "inline")


@bp.route("/agent/impressions/sessions/<session_id>/candidats/<int:candidate_id>/attestation.pdf")
@allowed(*AGENTS)
def agent_print_attestation(session_id: str, candidate_id: int):
    """P4: the attestation de réussite, to be signed by the service."""
    return pdf_from("printing", f"/sessions/{session_id}/candidates/{candidate_id}/attestation",
                f"attestation-reussite-{candidate_id}.pdf", "attachment")


@bp.route("/agent/impressions/sessions/<session_id>/candidats/<int:candidate_id>/demande", methods=["POST"])
@allowed(*AGENTS)
def agent_print_request(session_id: str, candidate_id: int):
    """P3/P5: the box « Données vérifiées et conformes » ticked, then the request (initial or duplicata); after an
    initial request the next candidate opens."""
    kind = "duplicata" if request.form.get("kind") == "duplicata" else "initial"
    base = f"/sessions/{session_id}/candidates/{candidate_id}"
    try:
        api("POST", "printing", f"{base}/verification", json={"conformes": request.form.get("conformes") == "oui"})
        sent = api("POST", "printing", f"{base}/print-requests", json={"kind": kind}).data
    except ServiceError as exc:
        if exc.status in (403, 404):
            raise
        try:
            return form_error_candidate(session_id, candidate_id, exc, kind)
        except ServiceError:
            raise exc from None
    holder = sent.get("holder") or f"n° {candidate_id}"
    if kind == "duplicata":
        flash(f"Duplicata demandé pour {holder} ({sent['duplicata_count']} au total).", "success")
        return redirect(url_for("web.agent_print_candidate", session_id=session_id, candidate_id=candidate_id))
    flash(f"Demande d'impression transmise pour {holder}.", "success")
    if sent.get("next"):  # P3: the next candidate opens
        return redirect(url_for("web.agent_print_candidate", session_id=session_id, candidate_id=sent["next"]))
    flash("Tous les candidats de la session ont été traités.", "info")
    return redirect(url_for("web.agent_print_session", session_id=session_id))


def form_error_candidate(session_id: str, candidate_id: int, exc: ServiceError, kind: str):
    errors = dict(exc.errors)
    if "conformes" in errors or exc.code in ("not_verified", "not_verified_again"):
        errors["conformes"] = errors.get("conformes") or [exc.detail]
    status = exc.status if exc.status in (400, 409, 422) else 503
    return _candidate_page(session_id, candidate_id, status, errors=errors, error_detail=exc.detail, kind=kind)



def page_arg() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


PND_PER_PAGE = 20


@bp.route("/agent/impressions/plis-non-distribues")
@allowed(*AGENTS)
def agent_pnd():
    """P7 for the whole scope: the documents the Afpa could not deliver, not sent again yet, newest first; each
    opens the candidate's address correction (C4), after which printing has the same documents sent again."""
    number = page_arg()
    listed = api("GET", "printing", "/pnd", params={"page": number, "per_page": PND_PER_PAGE}).data
    pages = max(1, math.ceil(listed["total"] / PND_PER_PAGE))
    return page("agent/pnd.html", listed=listed, page_number=number, pages=pages,
                back=url_for("web.agent_pnd", page=number) if number > 1 else url_for("web.agent_pnd"))


# --- the Afpa operator (P6, B3, P7) --------------------------------------------------------------------------------
AFPA_STATUSES = (("printed", "Imprimé"), ("posted", "Posté"), ("pnd", "Pli non distribuable (PND)"),
                 ("delivered", "Distribué"))
BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def _batches_page(status: int = 200, **context):
    batches = api("GET", "printing", "/afpa/batches").data["batches"]
    context.setdefault("form", {})
    return page("afpa/batches.html", status, batches=batches, **context)


@bp.route("/afpa/lots")
@allowed(*AFPA)
def afpa_batches():
    """P6: the batches ready to print (not acknowledged yet), oldest first, each to download then acknowledge."""
    return _batches_page()


@bp.route("/afpa/lots/<batch_id>.zip")
@allowed(*AFPA)
def afpa_batch_archive(batch_id: str):
    if not BATCH_ID.match(batch_id):
        abort(404)
    return file_from("printing", f"/afpa/batches/{batch_id}/archive", f"{batch_id}.zip", "attachment",
                     mimetype="application/zip", passed_headers=("X-Checksum-SHA256",))


@bp.route("/afpa/lots/<batch_id>/accuse-reception", methods=["POST"])
@allowed(*AFPA)
def afpa_acknowledge(batch_id: str):
    """The SHA-256 the operator computed on the downloaded zip: printing checks it against the batch's own."""
    if not BATCH_ID.match(batch_id):
        abort(404)
    sha256 = request.form.get("sha256", "").strip().lower()
    form = {"batch_id": batch_id, "sha256": sha256}
    field = f"sha256-{batch_id}"  # one field per batch in the page: the summary links to this batch's
    if not sha256:
        return _batches_page(422, form=form, errors={field: ["Saisissez l'empreinte SHA-256 du fichier reçu."]},
                             error_detail="L'empreinte est manquante.")
    try:
        done = api("POST", "printing", f"/afpa/batches/{batch_id}/acknowledgement", json={"sha256": sha256}).data
    except ServiceError as exc:
        if exc.status == 403:
            raise
        errors = {field: exc.errors.get("sha256") or [exc.detail]}
        return _batches_page(exc.status if exc.status in (404, 409, 422) else 503, form=form, errors=errors,
                             error_detail=exc.detail)
    flash(f"Réception du lot {done['id']} confirmée ({done['documents']} documents).", "success")
    return redirect(url_for("web.afpa_batches"))


@bp.route("/afpa/plis", methods=["GET", "POST"])
@allowed(*AFPA)
def afpa_statuses():
    """B3: the fate of one document of a batch (printed, posted, PND, delivered); a PND (P7) appears in the agents'
    follow-up until the address is corrected."""
    form = {k: request.form.get(k, "").strip() for k in ("batch_id", "document_number", "status")}
    context = {"statuses": AFPA_STATUSES, "form": form}
    if request.method == "GET":
        return page("afpa/statuses.html", **context)
    errors = {name: [message] for name, message in (
        ("batch_id", "Saisissez le numéro du lot."), ("document_number", "Saisissez le numéro du document."),
        ("status", "Choisissez ce qu'il est advenu du pli.")) if not form[name]}
    if errors:
        return page("afpa/statuses.html", 422, errors=errors, error_detail="Certaines données sont manquantes.",
                    **context)
    try:
        result = api("POST", "printing", "/afpa/statuses", json={"reports": [form]}).data["results"][0]
    except ServiceError as exc:
        if exc.status == 403:
            raise
        # The service names the line of its batch of reports (« reports.0.status »): here, the form's field.
        errors = {key.removeprefix("reports.0."): messages for key, messages in exc.errors.items()}
        if exc.status == 409 and not errors:
            errors = {"status": [exc.detail]}
        return page("afpa/statuses.html", exc.status if exc.status in (404, 409, 422) else 503, errors=errors,
                    error_detail=exc.detail, **context)
    label = dict(AFPA_STATUSES)[form["status"]].lower()
    flash(f"Document {result['document_number']} : {label} enregistré." if result["changed"] else
          f"Document {result['document_number']} : ce statut était déjà connu, rien n'a changé.", "success")
    return redirect(url_for("web.afpa_statuses"))


# --- reprints of diplomas of sessions held before CERES (P8) --------------------------------------------------------
REPRINT_FIELDS = ("number", "candidate_id", "titre_code", "titre_version", "issued_on", "departement")
REPRINT_SORTS = {"recent": "Dernières enregistrées", "numero": "Numéro d'origine", "titulaire": "Titulaire",
                 "date": "Date du diplôme d'origine"}
REPRINTS_PER_PAGE = 20


def _reprint_form() -> dict:
    form = {name: request.form.get(name, "").strip() for name in REPRINT_FIELDS}
    chosen = request.form.get("titre", "").strip()  # the catalogue's list: « code|version of the arrêté »
    if chosen:
        form["titre_code"], _, form["titre_version"] = chosen.partition("|")
    return form


def _catalogue() -> list[tuple[str, str]] | None:
    """Every version of every titre, to choose from (agents do not know arrêtés' dates by heart); None when the
    catalogue cannot be read: the form then asks for the code and the date as typed."""
    try:
        titres = api("GET", "sessions", "/titres").data
    except ServiceError:
        return None
    return [(f"{t['code']}|{t['version_date']}",
             f"{t['code']} — {t['libelle']} — arrêté du {date_numeric_fr(t['version_date'])}")
            for t in sorted(titres, key=lambda t: (t["code"], t["version_date"]))]


def _reprint_form_page(form: dict, status: int = 200, errors: dict | None = None, error_detail: str | None = None):
    titres = _catalogue()
    errors = dict(errors or {})
    if titres is not None:  # the service's errors on the code or the version go next to the one list
        merged = errors.pop("titre_code", []) + [e for e in errors.pop("titre_version", [])
                                                 if e not in errors.get("titre_code", [])]
        if merged:
            errors["titre"] = list(dict.fromkeys(merged))
    return page("agent/reprint_form.html", status, form=form, errors=errors, error_detail=error_detail,
                titres=titres, titre_choice=f"{form['titre_code']}|{form['titre_version']}")


def _reprint_body(form: dict) -> dict:
    """The API's fields; a field left empty is not sent (the service says « Ce champ est obligatoire. »), a CERES id
    that is not a number is sent as typed (the service says a whole number is expected)."""
    body = {name: value for name, value in form.items() if value}
    if body.get("candidate_id", "").isdigit():
        body["candidate_id"] = int(body["candidate_id"])
    if "titre_code" in body:
        body["titre_code"] = body["titre_code"].upper()
    if "departement" in body:
        body["departement"] = body["departement"].upper()
    return body


def _reprint_refused(exc: ServiceError, form: dict):
    """The service's refusals next to the fields: per field (422), the number already taken (409), a département
    outside the agent's scope (403: the page is the agent's, the département is what was typed)."""
    errors = dict(exc.errors)
    if exc.status == 403:
        errors.setdefault("departement", [exc.detail])
    elif exc.status == 409:
        errors.setdefault("number", [exc.detail])
    elif exc.status != 422:
        raise exc
    return _reprint_form_page(form, 422 if exc.status == 403 else exc.status, errors, exc.detail)


@bp.route("/agent/impressions/reimpressions")
@as_menu("web.agent_reprints")
def agent_reprints():
    """P8: the reprints of the agent's scope, a page at a time, in the chosen order."""
    sort = request.args.get("tri", "recent")
    sort = sort if sort in REPRINT_SORTS else "recent"
    number = page_arg()

    def one(number):
        return api("GET", "printing", "/reprints", params={"page": number, "per_page": REPRINTS_PER_PAGE,
                                                            "sort": sort}).data
    listed = one(number)
    pages = max(1, math.ceil(listed["total"] / REPRINTS_PER_PAGE))
    if number > pages:  # past the end (a typed address): the last page
        number = pages
        listed = one(number)
    return page("agent/reprints.html", listed=listed, sort=sort, sorts=REPRINT_SORTS, page_number=number,
                pages=pages)


@bp.route("/agent/impressions/reimpressions/nouvelle", methods=["GET", "POST"])
@as_menu("web.agent_reprints")
def agent_reprint_new():
    """P8: the form, checked by printing (fields, scope, number's uniqueness) without recording; then the
    confirmation with the holder from the candidate's record and the preview (P2); then the reprint is recorded,
    with its cover letter (P1), and its page opens: preview, « Données vérifiées et conformes », « Envoyer pour
    impression » (P3), as for any diploma."""
    if request.method == "GET":
        return _reprint_form_page({name: "" for name in REPRINT_FIELDS})
    form, step = _reprint_form(), request.form.get("etape")
    if step == "modifier":
        return _reprint_form_page(form)
    try:
        if step != "confirmer":
            summary = api("POST", "printing", "/reprints/check", json=_reprint_body(form)).data
            return page("agent/reprint_confirm.html", form=form, summary=summary,
                        preview=url_for("web.agent_reprint_preview", **form))
        made = api("POST", "printing", "/reprints", json=_reprint_body(form)).data
    except ServiceError as exc:
        return _reprint_refused(exc, form)
    flash(f"Réimpression enregistrée pour {made['holder']} : diplôme n° {made['documents'][0]['number']} et sa "
          f"lettre d'accompagnement. Vérifiez-les puis envoyez-les pour impression.", "success")
    return redirect(url_for("web.agent_print_candidate", session_id=made["session_id"],
                            candidate_id=made["candidate_id"]))


@bp.route("/agent/impressions/reimpressions/apercu.pdf")
@as_menu("web.agent_reprints")
def agent_reprint_preview():
    """P8 with P2: the diploma as it will be reprinted, read-only, before anything is recorded."""
    form = {name: request.args.get(name, "").strip() for name in REPRINT_FIELDS}
    return file_from("printing", "/reprints/preview", "apercu-reimpression.pdf", "inline", method="POST",
                     json=_reprint_body(form))
