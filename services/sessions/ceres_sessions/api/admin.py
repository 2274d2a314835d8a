"""Relaxation periods (S4), mass operations (S9), the dashboard (S10)."""
from __future__ import annotations

from datetime import timedelta

from flask import request
from flask_smorest import Blueprint
from sqlalchemy import select

from ceres_shared.auth import current_principal, require
from ceres_shared.errors import Conflict, NotFound
from ceres_shared.web import db, runtime

from .. import clock
from ..models import MassOperation, Relaxation
from ..service_layer import dashboard, mass
from .common import plain
from . import responses as doc
from .schemas import MassApply, MassCriteria, RelaxationClose, RelaxationIn
from .sessions import SessionOut

RELAXATION_MISSING = "Période d'assouplissement introuvable."
blp = Blueprint("pilotage", __name__, url_prefix="", description="Assouplissements, opérations de masse, tableau de bord")


def _found(model, key, missing: str, **options):
    """The row, or a 404 saying what is missing."""
    row = db().get(model, key, **options)
    if row is None:
        raise NotFound(missing)
    return row


def _relaxation(r: Relaxation) -> dict:
    today = clock.today()
    state = ("close" if r.closed_at else "a_venir" if r.starts_on > today else "terminee" if r.ends_on < today
             else "en_cours")
    return plain({"id": r.id, "starts_on": r.starts_on, "ends_on": r.ends_on, "reason": r.reason,
                  "created_by": r.created_by, "created_at": r.created_at, "state": state, "closed_at": r.closed_at,
                  "closed_by": r.closed_by, "closure_reason": r.closure_reason})


@blp.route("/assouplissements", methods=["POST"])
@blp.alt_response(201, schema=doc.RelaxationOut, success=True)
@blp.alt_response(200, schema=doc.RelaxationOut, success=True,
                  description="Avec `?dry_run=1` : la période vérifiée, rien n'est écrit")
@require("relaxation.write")
@blp.arguments(RelaxationIn)
def open_relaxation(data: dict):
    """S4: during the period the DTE and convocation deadlines are not enforced (still recorded).
    `?dry_run=1`: the period is checked (field by field) and returned, nothing is written: for a confirmation."""
    if request.args.get("dry_run", "").lower() in ("1", "true", "oui"):
        return plain({**data, "id": None}), 200
    session, principal = db(), current_principal()
    r = Relaxation(**data, created_by=principal.label, created_at=clock.now())
    session.add(r)
    session.flush()
    runtime().audit.record(session, entity_type="relaxation", entity_id=str(r.id), action="create",
                           actor=principal.label, actor_role=principal.role, after=_relaxation(r), reason=r.reason)
    session.commit()
    return _relaxation(r), 201


@blp.route("/assouplissements/<int:relaxation_id>/cloture", methods=["POST"])
@blp.alt_response(200, schema=doc.RelaxationOut, success=True)
@require("relaxation.write")
@blp.arguments(RelaxationClose)
def close_relaxation(data: dict, relaxation_id: int):
    """S4: ends a period early: from today its deadlines are enforced again (a period not started yet never
    applies). What was done under it stays marked so (S10)."""
    session, principal = db(), current_principal()
    r = _found(Relaxation, relaxation_id, RELAXATION_MISSING, with_for_update=True)
    today = clock.today()
    if r.closed_at is not None:
        raise Conflict("Cette période est déjà close.", code="relaxation_closed")
    if r.ends_on < today:
        raise Conflict("Cette période est déjà terminée.", code="relaxation_ended")
    before = _relaxation(r)
    if r.starts_on < today:  # it applied until yesterday: its end says so
        r.ends_on = today - timedelta(days=1)
    r.closed_at, r.closed_by, r.closure_reason = clock.now(), principal.label, data["reason"].strip()
    runtime().audit.record(session, entity_type="relaxation", entity_id=str(r.id), action="close",
                           actor=principal.label, actor_role=principal.role, before=before, after=_relaxation(r),
                           reason=r.closure_reason)
    session.commit()
    return _relaxation(r)


@blp.route("/assouplissements/<int:relaxation_id>")
@blp.alt_response(200, schema=doc.RelaxationOut, success=True)
@require("relaxation.read")
def relaxation(relaxation_id: int):
    return _relaxation(_found(Relaxation, relaxation_id, RELAXATION_MISSING))


@blp.route("/assouplissements")
@blp.alt_response(200, schema=doc.RelaxationOut(many=True), success=True)
@require("relaxation.read")
def relaxations():
    return [_relaxation(r) for r in db().scalars(select(Relaxation).order_by(Relaxation.starts_on.desc()))]


@blp.route("/operations-masse/apercu", methods=["POST"])
@blp.alt_response(200, schema=doc.MassPreview, success=True)
@require("mass.run")
@blp.arguments(MassCriteria)
def preview(criteria: dict):
    """S9: the dry run; nothing changes."""
    found = mass.preview(db(), criteria)
    return {"total": found["total"], "fingerprint": found["fingerprint"],
            "sessions": SessionOut(many=True).dump(found["sessions"])}


def _operation(op: MassOperation) -> dict:
    return plain({"id": op.id, "action": op.action, "criteria": op.criteria, "new_end_date": op.new_end_date,
                  "reason": op.reason, "state": op.state, "total": op.total, "done": op.done, "skipped": op.skipped,
                  "progress": round(100 * (op.done + op.skipped) / op.total, 1) if op.total else 100.0,
                  "created_by": op.created_by, "created_at": op.created_at, "finished_at": op.finished_at})


@blp.route("/operations-masse", methods=["POST"])
@blp.alt_response(202, schema=doc.MassOperationOut, success=True, description="Opération mise en file")
@require("mass.run")
@blp.arguments(MassApply)
def apply(data: dict):
    """S9: queues the operation; the worker applies it session by session, each change traced. With
    `expected_fingerprint` (the preview's), refused (409 selection_changed) when the sessions are no longer those
    previewed."""
    op = mass.start(db(), current_principal(), data, runtime())
    db().commit()
    return _operation(op), 202


@blp.route("/operations-masse/<operation_id>")
@blp.alt_response(200, schema=doc.MassOperationOut, success=True)
@require("mass.run")
def operation(operation_id: str):
    return _operation(_found(MassOperation, operation_id, "Opération introuvable."))


@blp.route("/tableau-de-bord")
@blp.alt_response(200, schema=doc.Dashboard, success=True)
@require("dashboard.read")
def board():
    """S10: the last 12 months of the caller's scope, and the deadline warnings (B2)."""
    return plain(dashboard.dashboard(db(), current_principal()))
