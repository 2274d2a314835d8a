"""P7 follow-up for a whole scope: the documents the Afpa reported undeliverable (PND) and not sent again yet, one
entry per candidate of a session, newest report first, a page at a time. The scope is the agent's (I4): the
session's département for an UD, its région for a DREETS/DEETS, everything for the national profiles."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select

from ceres_shared.auth import current_principal, require
from ceres_shared.web import db

from . import documents
from . import responses as doc
from .domain.rules import DOCUMENT_LABELS
from .models import Candidacy, CandidateCopy, Document, PrintItem, PrintRequest, ValidatedSession
from .services import iso, scope_filter

blp = Blueprint("pnd", __name__, description="Plis non distribués (PND) du périmètre, à corriger (P7)")


class PndQuery(Schema):
    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100_000, error="Page invalide."))
    per_page = fields.Int(load_default=20, validate=validate.Range(min=1, max=100, error="Entre 1 et 100."))


def _open_pnd():
    """The PND items not yet sent again (resent_at is set once the corrected address queued them again)."""
    return (select(PrintItem, PrintRequest.candidacy_id)
            .join(PrintRequest, PrintRequest.id == PrintItem.request_id)
            .where(PrintItem.status == "pnd", PrintItem.resent_at.is_(None)))


@blp.route("/pnd")
@blp.alt_response(200, schema=doc.PndPage, success=True)
@blp.arguments(PndQuery, location="query")
@require("print.read")
def list_pnd(query):
    """P7: the scope's undeliverable documents, grouped per candidate and session, to correct the address (C4)."""
    session, principal = db(), current_principal()
    pnd = _open_pnd().subquery()
    per_candidacy = (select(Candidacy.id.label("candidacy_id"), func.max(pnd.c.status_at).label("reported_at"))
                     .join(pnd, pnd.c.candidacy_id == Candidacy.id)
                     .join(ValidatedSession, ValidatedSession.session_id == Candidacy.session_id)
                     .where(scope_filter(principal))  # I4, on the server: never the whole country by default
                     .group_by(Candidacy.id))
    total = session.scalar(select(func.count()).select_from(per_candidacy.subquery()))
    rows = session.execute(per_candidacy.order_by(func.max(pnd.c.status_at).desc(), Candidacy.id)
                           .offset((query["page"] - 1) * query["per_page"]).limit(query["per_page"])).all()
    ids = [row.candidacy_id for row in rows]
    items: dict[int, list[PrintItem]] = {}
    if ids:
        for item, candidacy_id in session.execute(_open_pnd().where(PrintRequest.candidacy_id.in_(ids))
                                                  .order_by(PrintItem.id)).all():
            items.setdefault(candidacy_id, []).append(item)
    entries = []
    for row in rows:
        candidacy = session.get(Candidacy, row.candidacy_id)
        vs = session.get(ValidatedSession, candidacy.session_id)
        candidate = session.get(CandidateCopy, candidacy.candidate_id)
        entries.append({
            "candidate_id": candidacy.candidate_id,
            "holder": documents.holder_name(candidate) if candidate else None,
            "session_id": vs.session_id, "public_id": vs.public_id, "titre_code": vs.titre_code,
            "departement": vs.departement, "region": vs.region, "reported_at": iso(row.reported_at),
            "documents": [{"number": i.document_number,
                           "label": DOCUMENT_LABELS[session.get(Document, i.document_number).kind],
                           "batch_id": i.batch_id, "addressee": i.addressee, "address": i.address,
                           "routed_to": i.routed_to, "reported_at": iso(i.status_at)}
                          for i in items.get(candidacy.id, [])],
        })
    return {"total": total, "page": query["page"], "per_page": query["per_page"], "pnd": entries}
