"""The Afpa's side of the feed (P6, P7, B3): acknowledge a batch, report each document's fate. Every report is
idempotent (the same status twice changes nothing) and a batch of reports is all-or-nothing."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.db import lock_for_update
from ceres_shared.errors import ApiError, Conflict, NotFound

from .domain.rules import RuleViolation, check_status_change
from .models import Batch, Candidacy, Document, PrintItem, PrintRequest


def acknowledge(rt, db: Session, principal: Principal, batch_id: str, sha256: str) -> Batch:
    batch = lock_for_update(db, Batch, batch_id)  # two receptions at once: the second sees the first's
    if batch is None or batch.status == "building":
        raise NotFound("Lot inconnu.")
    if sha256.lower() != batch.sha256:
        raise ApiError(422, "L'empreinte SHA-256 ne correspond pas au lot : téléchargez-le à nouveau.",
                       errors={"sha256": ["Empreinte différente de celle du lot."]}, code="checksum_mismatch")
    if batch.status == "acknowledged":
        return batch  # idempotent
    batch.status, batch.acknowledged_at, batch.acknowledged_by = "acknowledged", rt.printing.now(), principal.label
    rt.audit.record(db, entity_type="batch", entity_id=batch_id, action="acknowledge", actor=principal.label,
                    actor_role=principal.role, before={"status": "ready"}, after={"status": "acknowledged"})
    return batch


def report_statuses(rt, db: Session, principal: Principal, reports: list[dict]) -> list[dict]:
    """Each report: batch_id, document_number, status. Unknown numbers and impossible changes refuse the whole
    request with the faulty lines named (422 / 409); nothing is written then."""
    now = rt.printing.now()
    errors, targets = {}, []
    for index, report in enumerate(reports):
        item = db.scalars(select(PrintItem).where(PrintItem.batch_id == report["batch_id"],
                                                  PrintItem.document_number == report["document_number"])
                          .with_for_update()).first()  # locked: a concurrent report of it waits, then sees ours
        if item is None:
            errors[str(index)] = {"document_number": [
                f"Numéro {report['document_number']} inconnu dans le lot {report['batch_id']}."]}
            continue
        targets.append((item, report))
    if errors:
        raise ApiError(422, "Certains numéros de document sont inconnus : aucun statut n'a été enregistré.",
                       errors={"reports": errors}, code="unknown_document")
    results = []
    for index, (item, report) in enumerate(targets):
        try:
            changed = check_status_change(item.status, report["status"])
        except RuleViolation as exc:
            db.rollback()
            raise Conflict(exc.message, code=exc.code, errors={"reports": {str(index): {"status": [exc.message]}}})
        if changed:
            before = item.status
            item.status, item.status_at = report["status"], report.get("at") or now
            request = db.get(PrintRequest, item.request_id)
            candidacy = db.get(Candidacy, request.candidacy_id)
            doc = db.get(Document, item.document_number)
            rt.audit.record(db, entity_type="document", entity_id=item.document_number, action="afpa_status",
                            actor=principal.label, actor_role=principal.role, before={"status": before},
                            after={"status": item.status, "batch_id": item.batch_id})
            rt.outbox.record(db, "print.document_status", {
                "candidate_id": candidacy.candidate_id, "document_number": doc.number, "document_type": doc.kind,
                "status": item.status, "batch_id": item.batch_id, "session_id": candidacy.session_id})
        results.append({"batch_id": item.batch_id, "document_number": item.document_number, "status": item.status,
                        "changed": changed})
    return results
