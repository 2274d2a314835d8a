"""HTTP API: the agent's workflow (P1-P5, P9), the Afpa feed (P6, P7, B3) and the public verification page (B1)."""
from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint
from markupsafe import escape
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from ceres_shared.auth import current_principal, require
from ceres_shared.db import lock_for_update
from ceres_shared.errors import NotFound
from ceres_shared.web import db, runtime

from . import afpa, services, verification
from . import responses as doc
from .domain.rules import AFPA_STATUSES
from .models import Batch, Candidacy, ValidatedSession

agent = Blueprint("printing", __name__, description="Documents des sessions validées et demandes d'impression")
feed = Blueprint("afpa", __name__, url_prefix="/afpa", description="Flux Afpa : lots, accusés, statuts des plis")
public = Blueprint("verification", __name__, description="Vérification publique d'un document")


class VerifySchema(Schema):
    conformes = fields.Bool(required=True, validate=validate.Equal(
        True, error="Cochez « Données vérifiées et conformes »."))


class PrintRequestSchema(Schema):
    kind = fields.Str(load_default="initial", validate=validate.OneOf(
        ("initial", "duplicata"), error="« initial » ou « duplicata » attendu."))


class ReprintSchema(Schema):
    """P8: a diploma of a session held before CERES, to print again under its original number."""

    number = fields.Str(required=True, validate=validate.Length(min=1, max=40),
                        metadata={"description": "Numéro d'origine, tel qu'il figure sur le parchemin"})
    candidate_id = fields.Int(required=True, strict=True, validate=validate.Range(min=1),
                              metadata={"description": "Fiche du titulaire (module Candidats)"})
    titre_code = fields.Str(required=True, validate=validate.Regexp(
        r"^(TP|CCS)-\d{5}$", error="Code de titre attendu, par exemple TP-00463."))
    titre_version = fields.Date(required=True, metadata={"description": "Date de l'arrêté de la version du titre"})
    issued_on = fields.Date(required=True, metadata={"description": "Date du diplôme d'origine (« Etabli le »)"})
    departement = fields.Str(required=True, validate=validate.Length(min=2, max=3),
                             metadata={"description": "Département où la session s'est tenue"})


class ReprintsQuery(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100_000, error="Page invalide."))
    per_page = fields.Int(load_default=20, validate=validate.Range(min=1, max=100, error="Entre 1 et 100."))
    sort = fields.Str(load_default="recent", validate=validate.OneOf(
        tuple(services.REPRINT_SORTS), error="Tri inconnu : recent, numero, titulaire ou date."))


class ProgressQuery(Schema):
    progress = fields.Str(required=True, validate=validate.OneOf(("sans_demande", "partielles")))
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100_000, error="Page invalide."))
    # 100 by default: a caller that does not page yet still gets a bounded answer, as large as a page may be
    per_page = fields.Int(load_default=100, validate=validate.Range(min=1, max=100, error="Entre 1 et 100."))


class AckSchema(Schema):
    sha256 = fields.Str(required=True, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$", error="64 caractères hexadécimaux."))


class StatusReport(Schema):
    batch_id = fields.Str(required=True, validate=validate.Length(min=1, max=40))
    document_number = fields.Str(required=True, validate=validate.Length(min=1, max=24))
    status = fields.Str(required=True, validate=validate.OneOf(AFPA_STATUSES))
    at = fields.AwareDateTime(load_default=None)


class StatusReports(Schema):
    reports = fields.List(fields.Nested(StatusReport), required=True, validate=validate.Length(min=1, max=5000))


BINARY = {"type": "string", "format": "binary"}
PDF = {"schema": BINARY, "content_type": "application/pdf", "success": True, "description": "Le PDF"}


def _pdf(data: bytes, name: str) -> Response:
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


# --- agents ------------------------------------------------------------------------------------------------------
@agent.route("/dashboard")
@agent.alt_response(200, schema=doc.Dashboard, success=True)
@require("print.read")
def get_dashboard():
    """P9: validated sessions of the scope with no print request / with part of them requested."""
    return services.dashboard(db(), current_principal())


@agent.route("/sessions")
@agent.alt_response(200, schema=doc.SessionPage, success=True)
@agent.arguments(ProgressQuery, location="query")
@require("print.read")
def list_sessions(query):
    """P9: the list behind each dashboard count, a page at a time (the DGEFP's is the whole country); the scope (I4)
    and the progress are filtered in SQL, oldest validation first."""
    session = db()
    counts = services.request_counts()
    listed = services.sessions_in_scope(current_principal(), counts, ValidatedSession).where(
        services.progress_is(counts, query["progress"]))
    total = session.scalar(select(func.count()).select_from(listed.subquery()))
    rows = session.scalars(listed.order_by(ValidatedSession.validated_at, ValidatedSession.session_id)
                           .offset((query["page"] - 1) * query["per_page"]).limit(query["per_page"])).all()
    return {"total": total, "page": query["page"], "per_page": query["per_page"],
            "sessions": [services.session_summary(session, vs) for vs in rows]}


@agent.route("/sessions/<session_id>/candidates")
@agent.alt_response(200, schema=doc.SessionCandidates, success=True)
@require("print.read")
def list_candidates(session_id):
    """P1: the session's candidates with the state of their documents."""
    session = db()
    vs = services.scoped_session(session, current_principal(), session_id)
    rows = session.scalars(select(Candidacy).where(Candidacy.session_id == session_id).order_by(Candidacy.position))
    return {"session": services.session_summary(session, vs),
            "candidates": [services.candidacy_state(session, c) for c in rows]}


@agent.route("/sessions/<session_id>/candidates/<int:candidate_id>")
@agent.alt_response(200, schema=doc.CandidateDetail, success=True)
@require("print.read")
def get_candidate(session_id, candidate_id):
    """P1: one candidate, with previous / next."""
    session = db()
    candidacy = services.scoped_candidacy(session, current_principal(), session_id, candidate_id)
    previous, following = services.neighbours(session, candidacy)
    return {**services.candidacy_state(session, candidacy), "previous": previous, "next": following}


@agent.route("/sessions/<session_id>/candidates/<int:candidate_id>/documents/<path:number>/preview")
@agent.alt_response(200, **PDF)
@require("print.read")
def preview(session_id, candidate_id, number):
    """P2: preview without stamp, signature, Marque État, watermark or livret front page."""
    session = db()
    candidacy = services.scoped_candidacy(session, current_principal(), session_id, candidate_id)
    pdf = services.preview(runtime(), session, candidacy, number)
    session.commit()  # a first verification key may have been created
    return _pdf(pdf, f"apercu-{number}.pdf")


def _locked(session, candidacy: Candidacy) -> Candidacy:
    """The candidacy read afresh and locked until the commit: two « Envoyer pour impression » at once queue one
    request, the second is refused by P5 as a repeat."""
    return lock_for_update(session, Candidacy, candidacy.id)


@agent.route("/sessions/<session_id>/candidates/<int:candidate_id>/verification", methods=["POST"])
@agent.alt_response(200, schema=doc.CandidacyState, success=True)
@agent.arguments(VerifySchema)
@require("print.verify")
def verify(_body, session_id, candidate_id):
    """P3: « Données vérifiées et conformes »."""
    session, principal = db(), current_principal()
    candidacy = _locked(session, services.scoped_candidacy(session, principal, session_id, candidate_id))
    services.verify(runtime(), session, principal, candidacy)
    session.commit()
    return services.candidacy_state(session, candidacy)


@agent.route("/sessions/<session_id>/candidates/<int:candidate_id>/print-requests", methods=["POST"])
@agent.alt_response(201, schema=doc.PrintRequested, success=True)
@agent.arguments(PrintRequestSchema)
@require("print.request")
def request_print(body, session_id, candidate_id):
    """P3 « Envoyer pour impression » / P5 duplicata; answers with the next candidate to open."""
    session, principal = db(), current_principal()
    candidacy = _locked(session, services.scoped_candidacy(session, principal, session_id, candidate_id))
    req = services.request_print(runtime(), session, principal, candidacy, body["kind"])
    session.commit()
    _, following = services.neighbours(session, candidacy)
    return {"request_id": req.id, "kind": req.kind, **services.candidacy_state(session, candidacy),
            "next": following}, 201


@agent.route("/reprints", methods=["POST"])
@agent.alt_response(201, schema=doc.ReprintRecorded, success=True)
@agent.arguments(ReprintSchema)
@require("print.request")
def request_reprint(body):
    """P8: a pre-CERES diploma reprinted under its original number (format and uniqueness checked). Answers with the
    candidate as in the session's list: then preview, verification and print request as for any diploma."""
    session, principal = db(), current_principal()
    candidacy = services.request_reprint(runtime(), session, principal, **body)
    session.commit()
    return {"session_id": candidacy.session_id, **services.candidacy_state(session, candidacy)}, 201


@agent.route("/reprints/check", methods=["POST"])
@agent.alt_response(200, schema=doc.ReprintSummary, success=True)
@agent.arguments(ReprintSchema)
@require("print.request")
def check_reprint(body):
    """P8: every check of a reprint (fields, scope, uniqueness) without recording anything: what the agent confirms
    (the holder as in the candidate's record)."""
    session = db()
    return services.reprint_summary(services.check_reprint(runtime(), session, current_principal(), **body))


@agent.route("/reprints/preview", methods=["POST"])
@agent.alt_response(200, **PDF)
@agent.arguments(ReprintSchema)
@require("print.request")
def preview_reprint(body):
    """P8 with P2: the diploma as it will be reprinted, read-only (no stamp, signature, Marque État, watermark),
    before anything is recorded."""
    session = db()
    checked = services.check_reprint(runtime(), session, current_principal(), **body)
    pdf = services.preview_reprint(runtime(), session, checked)
    session.commit()  # a first verification key may have been created
    return _pdf(pdf, "apercu-reimpression.pdf")


@agent.route("/reprints")
@agent.alt_response(200, schema=doc.ReprintPage, success=True)
@agent.arguments(ReprintsQuery, location="query")
@require("print.read")
def list_reprints(query):
    """P8: the reprints of the caller's scope, a page at a time: « recent » (last recorded first), « numero »,
    « titulaire » or « date » (of the original diploma, newest first)."""
    return services.list_reprints(db(), current_principal(), **query)


@agent.route("/sessions/<session_id>/candidates/<int:candidate_id>/attestation")
@agent.alt_response(200, **PDF)
@require("print.read")
def attestation(session_id, candidate_id):
    """P4: attestation de réussite (admitted candidate, after the first print request)."""
    session = db()
    candidacy = services.scoped_candidacy(session, current_principal(), session_id, candidate_id)
    pdf = services.attestation(runtime(), session, candidacy)
    session.commit()
    return _pdf(pdf, f"attestation-{candidate_id}.pdf")


# --- the Afpa ----------------------------------------------------------------------------------------------------
def _batch_view(batch: Batch) -> dict:
    return {"id": batch.id, "status": batch.status, "created_at": services.iso(batch.created_at),
            "documents": batch.item_count, "sha256": batch.sha256, "size": len(batch.archive),
            "acknowledged_at": services.iso(batch.acknowledged_at)}


@feed.route("/batches")
@feed.alt_response(200, schema=doc.Batches, success=True)
@require("afpa.feed")
def list_batches():
    """Ready batches (not acknowledged yet), oldest first."""
    rows = db().scalars(select(Batch).where(Batch.status == "ready").order_by(Batch.created_at, Batch.id))
    return {"batches": [_batch_view(b) for b in rows]}


@feed.route("/batches/<batch_id>/archive")
@feed.alt_response(200, schema=BINARY, content_type="application/zip", success=True, headers={
    "X-Checksum-SHA256": {"description": "SHA-256 de l'archive, à renvoyer dans l'accusé de réception",
                          "schema": {"type": "string"}},
    "ETag": {"schema": {"type": "string"}}})
@require("afpa.feed")
def download(batch_id):
    """The batch's zip; its SHA-256 in `X-Checksum-SHA256` (to send back with the acknowledgement)."""
    batch = db().get(Batch, batch_id)
    if batch is None or batch.status == "building":
        raise NotFound("Lot inconnu.")
    return Response(batch.archive, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{batch.id}.zip"', "X-Checksum-SHA256": batch.sha256,
        "ETag": f'"{batch.sha256}"'})


@feed.route("/batches/<batch_id>/acknowledgement", methods=["POST"])
@feed.alt_response(200, schema=doc.BatchOut, success=True)
@feed.arguments(AckSchema)
@require("afpa.feed")
def acknowledge(body, batch_id):
    session = db()
    batch = afpa.acknowledge(runtime(), session, current_principal(), batch_id, body["sha256"])
    session.commit()
    return _batch_view(batch)


@feed.route("/statuses", methods=["POST"])
@feed.alt_response(200, schema=doc.StatusResults, success=True)
@feed.arguments(StatusReports)
@require("afpa.feed")
def report_statuses(body):
    """B3: printed, posted, pnd (P7), delivered — per document of a batch; idempotent."""
    session = db()
    results = afpa.report_statuses(runtime(), session, current_principal(), body["reports"])
    session.commit()
    return {"results": results}


# --- public ------------------------------------------------------------------------------------------------------
NOT_GENUINE = "Document non authentique : ce numéro et ce code ne correspondent à aucun document délivré."


@public.route("/verification/<path:number>")  # an original number may hold slashes (P8)
@public.alt_response(200, schema=doc.Verification, success=True,
                     description="Document authentique (JSON si `Accept: application/json`)")
@public.alt_response(200, schema={"type": "string"}, content_type="text/html", success=True,
                     description="Document authentique (page)")
@public.alt_response(404, schema=doc.Verification, description="Document non authentique, ou numéro inconnu")
@public.alt_response(404, schema={"type": "string"}, content_type="text/html",
                     description="Document non authentique (page)")
def verify_document(number):
    """B1: the number plus its signed code confirm holder, titre and date — or the document is not genuine.
    Unknown number and wrong code get the same answer, so numbers cannot be probed."""
    session = db()
    code = request.args.get("code")
    genuine = len(number) <= 24 and verification.is_genuine(session, number, code)
    facts = services.verification_facts(session, number) if genuine else None
    genuine = facts is not None
    body = {"genuine": genuine, **(facts or {"message": NOT_GENUINE})}
    if request.accept_mimetypes.best == "application/json":
        return body, (200 if genuine else 404)
    return Response(_verification_html(body), status=200 if genuine else 404, mimetype="text/html")


def _verification_html(body: dict) -> str:
    if not body["genuine"]:
        content = f"<p><strong>{escape(body['message'])}</strong></p>"
    else:
        content = (f"<p><strong>Document authentique.</strong></p><dl>"
                   f"<dt>Numéro</dt><dd>{escape(body['number'])}</dd>"
                   f"<dt>Document</dt><dd>{escape(body['document'])}</dd>"
                   f"<dt>Titulaire</dt><dd>{escape(body['holder'])}</dd>"
                   f"<dt>Titre</dt><dd>{escape(body['titre'])}</dd>"
                   f"<dt>Date de la décision du jury</dt><dd>{escape(body['issued_on'])}</dd></dl>")
    return (f"<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Vérification d'un document"
            f"</title></head><body><h1>Vérification d'un document du titre professionnel</h1>{content}</body></html>")


BLUEPRINTS = (agent, feed, public)
