"""The printing workflow of the agents, through the printing API: the dashboard counts (P9) and their lists, a
validated session's candidates with their documents' state (P1), one candidate at a time with previous / next, the
preview PDF (P2), « Données vérifiées et conformes » then « Envoyer pour impression » (P3, the next candidate
opens), the duplicata after 7 days (P5), the attestation de réussite (P4), and the PNDs to follow (P7)."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, request, session, url_for

from .blueprint import SessionExpired, allowed, api, bp, client, page
from .client import ServiceError
from .roles import AGENTS

PROGRESS = {"sans_demande": "Sessions validées sans demande d'impression",
            "partielles": "Sessions aux demandes d'impression partielles"}
DECISIONS = {"titre": "Titre obtenu", "partiel": "Réussite partielle", "ajourne": "Ajourné", "absent": "Absent"}
ITEM_STATUS = {"queued": "en file", "requested": "demandé", "printed": "imprimé", "posted": "posté",
               "pnd": "pli non distribuable (PND)", "delivered": "distribué"}


def _candidates(session_id: str) -> dict:
    return api("GET", "printing", f"/sessions/{session_id}/candidates").data


def pdf_from(service: str, path: str, filename: str, disposition: str) -> Response:
    """A PDF from a service, passed through with the user's token (the JSON client does not carry bytes)."""
    http = client()
    try:
        answer = http.http.get(f"{http.urls[service]}{path}", timeout=http.timeout,
                               headers={"Authorization": f"Bearer {session.get('token')}", "Accept": "application/pdf"})
    except Exception as exc:  # requests' errors: the service is down
        raise ServiceError(503, f"Le service « {service} » est momentanément indisponible.") from exc
    if answer.status_code == 401:
        raise SessionExpired()
    if answer.status_code != 200 or answer.headers.get("Content-Type", "").split(";")[0] != "application/pdf":
        body = answer.json() if answer.headers.get("Content-Type", "").endswith("json") else {}
        raise ServiceError(answer.status_code, body.get("detail") or "Le document n'a pas pu être produit.")
    return Response(answer.content, mimetype="application/pdf",
                    headers={"Content-Disposition": f'{disposition}; filename="{filename}"',
                             "Cache-Control": "no-store"})  # personal data: never kept by a cache


@bp.route("/agent/impressions")
@allowed(*AGENTS)
def agent_printing_board():
    """P9: the two counts of the scope, each opening its list."""
    board = api("GET", "printing", "/dashboard").data
    progress = request.args.get("suivi")
    listed = None
    if progress in PROGRESS:
        listed = api("GET", "printing", "/sessions", params={"progress": progress}).data["sessions"]
    return page("agent/printing_board.html", board=board, progress=progress, listed=listed, labels=PROGRESS)


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


@bp.route("/agent/impressions/sessions/<session_id>/candidats/<int:candidate_id>/documents/<number>.pdf")
@allowed(*AGENTS)
def agent_print_preview(session_id: str, candidate_id: int, number: str):
    """P2: the preview, read-only (no stamp, signature, Marque État, watermark), opened by the browser."""
    if not number.replace("-", "").isalnum():
        abort(404)
    return pdf_from("printing", f"/sessions/{session_id}/candidates/{candidate_id}/documents/{number}/preview",
                f"apercu-{number}.pdf", "inline")


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

