"""The token issuer's public keys (JWKS) and, in embedded mode only, a development token endpoint.

Tokens come from log-in (/auth/login) and client credentials (/auth/token); the development endpoint is kept
for demos in embedded mode only: it is never mounted in production mode.
"""
from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint
from marshmallow import INCLUDE, Schema, fields, validate

from ceres_shared.auth import ALL_ROLES
from ceres_shared.keyring import KeyRing

blp = Blueprint("keys", __name__, description="Clés publiques de signature des jetons")
dev_blp = Blueprint("dev_tokens", __name__, url_prefix="/dev", description="Jetons de développement (mode embarqué)")


class JwksOut(Schema):
    """RFC 7517 key set (documentation only: the ring writes it)."""

    class Meta:
        unknown = INCLUDE

    keys = fields.List(fields.Dict(), required=True)


def keyring() -> KeyRing:
    return current_app.extensions["ceres_runtime"].identity.keyring


@blp.route("/.well-known/jwks.json")
@blp.alt_response(200, schema=JwksOut, success=True, description="Clés publiques (JWK) des jetons en cours de validité")
def jwks():
    return keyring().jwks()


class DevTokenRequest(Schema):
    subject = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    role = fields.Str(required=True, validate=validate.OneOf(sorted(ALL_ROLES)))
    name = fields.Str(load_default=None)
    sirets = fields.List(fields.Str(), load_default=list)
    departements = fields.List(fields.Str(), load_default=list)
    regions = fields.List(fields.Str(), load_default=list)


class TokenResponse(Schema):
    access_token = fields.Str()
    token_type = fields.Str()
    expires_in = fields.Int()


@dev_blp.route("/tokens", methods=["POST"])
@dev_blp.arguments(DevTokenRequest)
@dev_blp.response(201, TokenResponse)
def dev_token(body):
    scope = {"sirets": body["sirets"], "departements": body["departements"], "regions": body["regions"]}
    ttl = current_app.extensions["ceres_runtime"].identity.config.dev_token_ttl
    token = keyring().issue(body["subject"], body["role"], scope=scope, name=body["name"], ttl=ttl)
    return {"access_token": token, "token_type": "Bearer", "expires_in": ttl}
