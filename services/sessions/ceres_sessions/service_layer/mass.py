"""Mass operations (S9): select sessions by status and date ranges, preview (dry run), then cancel them or move
their end date. Applying creates a job; the service's mass-operation worker processes it in chunks (one
transaction each), so a run of thousands of sessions shows its progress and survives a restart."""
from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.db import lock_for_update
from ceres_shared.errors import ApiError
from ceres_shared.workers import PeriodicWorker

from .. import clock
from ..clock import PARIS
from ..models import ExamSession, MassOperation
from . import sessions as uc

log = logging.getLogger(__name__)
CHUNK = 100
PREVIEW_ROWS = 200


def _query(criteria: dict):
    query = select(ExamSession).where(ExamSession.status.in_(criteria["statuses"]))
    bounds = (("starts_from", ExamSession.starts_at, time(0)), ("starts_to", ExamSession.starts_at, None),
              ("ends_from", ExamSession.ends_at, time(0)), ("ends_to", ExamSession.ends_at, None))
    for key, column, _ in bounds:
        day = criteria.get(key)
        if day is None:
            continue
        if key.endswith("_from"):
            query = query.where(column >= datetime.combine(day, time(0), tzinfo=PARIS))
        else:
            query = query.where(column < datetime.combine(day, time(23, 59, 59, 999999), tzinfo=PARIS))
    return query.order_by(ExamSession.starts_at, ExamSession.id)


def fingerprint(ids: list[str]) -> str:
    """Which sessions a selection holds, in short: the preview gives it, the application checks it (S9)."""
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def _ids(session: Session, criteria: dict) -> list[str]:
    return list(session.scalars(_query(criteria).with_only_columns(ExamSession.id)))


def preview(session: Session, criteria: dict) -> dict:
    """The dry run: how many sessions, the first of them, and the selection's fingerprint."""
    ids = _ids(session, criteria)
    rows = list(session.scalars(_query(criteria).limit(PREVIEW_ROWS)))
    return {"total": len(ids), "fingerprint": fingerprint(ids), "sessions": rows}


def start(session: Session, principal, data: dict, rt) -> MassOperation:
    ids = _ids(session, data["criteria"])
    if not ids:
        raise ApiError(409, "Aucune session ne correspond à ces critères.", code="empty_selection")
    if data.get("expected_fingerprint") and data["expected_fingerprint"] != fingerprint(ids):
        raise ApiError(409, "Les sessions concernées ont changé depuis l'aperçu : vérifiez le nouvel aperçu avant "
                       "d'appliquer l'opération.", code="selection_changed")
    criteria = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data["criteria"].items()}
    op = MassOperation(id=str(uuid.uuid4()), action=data["action"], criteria=criteria,
                       new_end_date=data.get("new_end_date"), reason=data["reason"], state="en_attente",
                       session_ids=ids, total=len(ids), done=0, skipped=0, created_by=principal.label,
                       created_role=principal.role, created_at=clock.now())
    session.add(op)
    session.flush()
    rt.audit.record(session, entity_type="mass_operation", entity_id=op.id, action="create", actor=principal.label,
                    actor_role=principal.role, after={"action": op.action, "criteria": criteria, "total": op.total,
                                                      "new_end_date": op.new_end_date}, reason=op.reason)
    return op


def run_chunk(rt) -> bool:
    """Process the next chunk of the oldest unfinished job; False when there is nothing to do."""
    with rt.session_factory.begin() as session:
        op = session.scalars(select(MassOperation).where(MassOperation.state.in_(("en_attente", "en_cours")))
                             .order_by(MassOperation.created_at).limit(1).with_for_update(skip_locked=True)).first()
        if op is None:
            return False
        subject, _, name = op.created_by.partition(":")
        actor = Principal(subject=name or subject, role=op.created_role, national=True)
        position = op.done + op.skipped
        for session_id in op.session_ids[position:position + CHUNK]:
            if _apply_one(session, rt, op, actor, session_id):
                op.done += 1
            else:
                op.skipped += 1
        op.state = "en_cours"
        if op.done + op.skipped >= op.total:
            op.state, op.finished_at = "terminee", clock.now()
        return True


def _apply_one(session: Session, rt, op: MassOperation, actor: Principal, session_id: str) -> bool:
    s = lock_for_update(session, ExamSession, session_id)  # a UD's step at the same time: one after the other
    reason = f"{op.reason} (opération de masse {op.id})"
    try:
        with session.begin_nested():  # a refused session leaves the others untouched
            if op.action == "annuler":
                uc.step(session, actor, s, "annuler", rt, reason=reason)
            else:
                uc.move_end_date(session, actor, s, op.new_end_date, reason, rt)
        return True
    except ApiError as refused:  # e.g. its status changed since the selection: traced, skipped
        rt.audit.record(session, entity_type="session", entity_id=session_id, action=f"{op.action}_ignore",
                        actor=actor.label, actor_role=actor.role, reason=f"{reason} : {refused.detail}")
        return False


class MassOperationWorker(PeriodicWorker):
    """Extra worker of the runtime: processes mass-operation jobs, a chunk per tick."""

    def tick(self) -> bool:
        return run_chunk(self.rt)
