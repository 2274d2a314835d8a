"""Endpoints for the other services only (the gateway never routes /internal/…)."""
from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import Schema, fields

from ceres_shared.web import db, runtime

from ..service_layer import revocations

blp = Blueprint("internal", __name__, url_prefix="/internal", description="Pour les autres services")


class RevocationList(Schema):
    subjects = fields.Dict(keys=fields.Str(), values=fields.Int(),
                           metadata={"description": "compte → ses jetons émis avant cette seconde sont refusés"})
    tokens = fields.List(fields.Str(), metadata={"description": "jetons d'accès révoqués (jti)"})


@blp.route("/revocations", methods=["GET"])
@blp.response(200, RevocationList)
def revocation_list():
    """Jetons d'accès révoqués avant leur expiration (déconnexion, connexions closes), lus par chaque service."""
    return revocations.listed(db(), runtime().identity.config.access_ttl)
