"""GET /history/<entity_type>/<entity_id>: the audit trail of one record (who, when, what), for agents."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from .auth import require
from .web import db, runtime

blp = Blueprint("history", __name__, url_prefix="/history", description="Traçabilité des modifications")


class AuditEntrySchema(Schema):
    action = fields.Str()
    actor = fields.Str()
    actor_role = fields.Str(allow_none=True)
    at = fields.DateTime()
    changes = fields.Dict()
    reason = fields.Str(allow_none=True)
    correlation_id = fields.Str(allow_none=True)


@blp.route("/<entity_type>/<entity_id>")
@blp.response(200, AuditEntrySchema(many=True))
@require("history.read")
def history(entity_type: str, entity_id: str):
    return runtime().audit.history(db(), entity_type, entity_id)
