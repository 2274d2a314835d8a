"""Controls of sessions by the State's services (S10 « suivi des contrôles »); agents only."""
from __future__ import annotations

from flask_smorest import Blueprint

from ceres_shared.auth import current_principal, require
from ceres_shared.web import db, runtime

from ..service_layer import controls as uc
from . import responses as doc
from .common import plain
from .schemas import ControlCancel, ControlIn, ControlOutcome, ControlQuery

blp = Blueprint("controles", __name__, url_prefix="", description="Contrôles des sessions (S10)")


def _answer(control, status: int = 200):
    db().commit()
    return plain(uc.as_dict(control)), status


@blp.route("/sessions/<session_id>/controles", methods=["POST"])
@blp.alt_response(201, schema=doc.ControlOut, success=True)
@require("control.write")
@blp.arguments(ControlIn)
def plan(data: dict, session_id: str):
    """Plans a control of a session of the caller's territory: on site during the session, or on the documents
    from its first day."""
    return _answer(uc.plan(db(), current_principal(), session_id, data["kind"], data["planned_on"], runtime()), 201)


@blp.route("/controles/<int:control_id>")
@blp.alt_response(200, schema=doc.ControlOut, success=True)
@require("control.read")
def read(control_id: int):
    return plain(uc.read(db(), current_principal(), control_id))


@blp.route("/controles/<int:control_id>/resultat", methods=["POST"])
@blp.alt_response(200, schema=doc.ControlOut, success=True)
@require("control.write")
@blp.arguments(ControlOutcome)
def outcome(data: dict, control_id: int):
    """Records what the control found (observations required unless compliant); then it is closed."""
    return _answer(uc.record_outcome(db(), current_principal(), control_id, data["outcome"], data["observations"],
                                     runtime()))


@blp.route("/controles/<int:control_id>/annulation", methods=["POST"])
@blp.alt_response(200, schema=doc.ControlOut, success=True)
@require("control.write")
@blp.arguments(ControlCancel)
def cancel(data: dict, control_id: int):
    return _answer(uc.cancel(db(), current_principal(), control_id, data["reason"], runtime()))


@blp.route("/controles")
@blp.alt_response(200, schema=doc.ControlPage, success=True, headers={
    "X-Total-Count": {"description": "Contrôles de la vue", "schema": {"type": "integer"}}})
@require("control.read")
@blp.arguments(ControlQuery, location="query")
def listing(query: dict):
    """The lists the dashboard's counts open: `vue` = programmes, en_retard, realises (12 months), non_conformes."""
    total, items = uc.listing(db(), current_principal(), query["vue"], query["page"], query["per_page"])
    return plain({"total": total, "page": query["page"], "per_page": query["per_page"], "controles": items}), 200, \
        {"X-Total-Count": str(total)}
