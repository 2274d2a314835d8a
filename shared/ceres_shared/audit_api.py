"""GET /history/<entity_type>/<entity_id>: the audit trail of one record (who, when, what), for agents."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from .auth import current_principal, require
from .errors import NotFound
from .openapi import UtcDateTime
from .web import db, runtime

blp = Blueprint("history", __name__, url_prefix="/history", description="Traçabilité des modifications")


class AuditEntrySchema(Schema):
    action = fields.Str()
    actor = fields.Str()
    actor_role = fields.Str(allow_none=True)
    at = UtcDateTime()
    changes = fields.Dict()
    reason = fields.Str(allow_none=True)
    correlation_id = fields.Str(allow_none=True)


@blp.route("/<entity_type>/<entity_id>")
@blp.response(200, AuditEntrySchema(many=True))
@require("history.read")
def history(entity_type: str, entity_id: str):
    # I4: the trail says as much as the record; a service that knows where its records are says who may read
    # them (Runtime.history_access); otherwise only national agents may.
    rt = runtime()
    principal = current_principal()
    session = db()
    allowed = principal.national or (
        rt.history_access is not None and rt.history_access(session, principal, entity_type, entity_id)
    )
    if not allowed:
        raise NotFound("Aucun historique accessible pour cet enregistrement.")
    return rt.audit.history(session, entity_type, entity_id)
