"""GET /history/<entity_type>/<entity_id>: the audit trail of one record (who, when, what), for agents; GET
/refus-de-perimetre: the refused attempts on records outside their author's scope, for the national administration."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_smorest import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

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
    trail = rt.audit.history(session, entity_type, entity_id)
    if not allowed:  # a record with a trail is a real one: traced as a scope refusal (I4)
        refused = NotFound("Aucun historique accessible pour cet enregistrement.")
        raise refused.outside_scope(entity_type, entity_id) if trail else refused
    return trail


# -- refused attempts on records outside the caller's scope (I4), for the national administration ---------------
REFUSALS_ACTION = "audit.scope_refusals"
NATIONAL_ADMINISTRATION = frozenset({"dgefp", "admin"})

refusals_blp = Blueprint("scope_refusals", __name__, url_prefix="/refus-de-perimetre",
                         description="Tentatives refusées sur des enregistrements hors périmètre")


class RefusalQuery(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Int(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    du = fields.Date(load_default=None, metadata={"description": "À partir de ce jour (inclus, heure de Paris)"})
    au = fields.Date(load_default=None, metadata={"description": "Jusqu'à ce jour (inclus, heure de Paris)"})
    auteur = fields.Str(load_default=None, validate=validate.Length(max=120),
                        metadata={"description": "L'auteur exact, « rôle:identifiant »"})


class RefusalSchema(Schema):
    at = UtcDateTime(metadata={"description": "Moment du refus"})
    actor = fields.Str(metadata={"description": "« rôle:identifiant » de l'auteur"})
    actor_name = fields.Str(allow_none=True)
    actor_role = fields.Str(allow_none=True)
    entity_type = fields.Str(metadata={"description": "Type de l'enregistrement demandé"})
    entity_id = fields.Str()
    method = fields.Str()
    endpoint = fields.Str(allow_none=True, metadata={"description": "La route, ex. /sessions/<session_id>"})
    path = fields.Str()
    status = fields.Int(metadata={"description": "La réponse donnée : 403 ou 404"})
    correlation_id = fields.Str(allow_none=True)


PARIS = ZoneInfo("Europe/Paris")


def _day_start(day):
    """The start of a day as the French users name it (Paris time)."""
    return datetime.combine(day, time.min, tzinfo=PARIS) if day else None


@refusals_blp.route("")
@refusals_blp.arguments(RefusalQuery, location="query")
@refusals_blp.response(200, RefusalSchema(many=True), headers={
    "X-Total-Count": {"description": "Nombre total de refus répondant aux filtres", "schema": {"type": "integer"}}})
@require(REFUSALS_ACTION)
def scope_refusals(query: dict):
    """Les tentatives de lire ou de modifier un enregistrement hors du périmètre de leur auteur (I4) : qui, quand,
    quel enregistrement, par quelle route, avec quelle réponse ; les plus récentes d'abord. Administration
    nationale (DGEFP, administrateurs) seulement."""
    until = _day_start(query["au"] + timedelta(days=1)) if query["au"] else None
    total, items = runtime().audit.scope_refusals(db(), since=_day_start(query["du"]), until=until,
                                                  actor=query["auteur"], page=query["page"],
                                                  per_page=query["per_page"])
    return items, 200, {"X-Total-Count": str(total)}
