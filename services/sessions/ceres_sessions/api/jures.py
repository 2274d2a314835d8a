"""Jurés (S7): records, habilitations, conflicts of interest, history (through /history/jure/<id>)."""
from __future__ import annotations

from flask_smorest import Blueprint

from ceres_shared.auth import current_principal, require
from ceres_shared.web import db, runtime

from ..service_layer import jury as uc
from . import responses as doc
from .common import plain
from .schemas import ConflictIn, HabilitationIn, JureIn, JurePatch

blp = Blueprint("jures", __name__, url_prefix="/jures", description="Jurés et habilitations (règle S7)")


def _view(jure) -> dict:
    return plain({**uc.jure_dict(jure), "habilitations": uc.habilitations_view(db(), jure)})


@blp.route("", methods=["POST"])
@blp.alt_response(201, schema=doc.JureOut, success=True)
@require("jure.write")
@blp.arguments(JureIn)
def create(data: dict):
    jure = uc.create_jure(db(), current_principal(), data, runtime())
    db().commit()
    return _view(jure), 201


@blp.route("/<jure_id>")
@blp.alt_response(200, schema=doc.JureOut, success=True)
@require("jure.read")
def read(jure_id: str):
    return _view(uc.get_jure(db(), current_principal(), jure_id))


@blp.route("/<jure_id>", methods=["PATCH"])
@blp.alt_response(200, schema=doc.JureOut, success=True)
@require("jure.write")
@blp.arguments(JurePatch(partial=True))
def edit(data: dict, jure_id: str):
    jure = uc.update_jure(db(), current_principal(), uc.get_jure(db(), current_principal(), jure_id, lock=True), data,
                         runtime())
    db().commit()
    return _view(jure)


@blp.route("/<jure_id>/habilitations", methods=["POST"])
@blp.alt_response(201, schema=doc.JureOut, success=True)
@require("jure.write")
@blp.arguments(HabilitationIn)
def habilitate(data: dict, jure_id: str):
    jure = uc.get_jure(db(), current_principal(), jure_id)
    uc.add_habilitation(db(), current_principal(), jure, data, runtime())
    db().commit()
    return _view(jure), 201


@blp.route("/<jure_id>/conflits", methods=["POST"])
@blp.alt_response(201, schema=doc.JureOut, success=True)
@require("jure.write")
@blp.arguments(ConflictIn)
def conflict(data: dict, jure_id: str):
    jure = uc.get_jure(db(), current_principal(), jure_id)
    uc.add_conflict(db(), current_principal(), jure, data, runtime())
    db().commit()
    return _view(jure), 201
