"""How every service documents its API (L9): errors as the Problem schema in application/problem+json, the error
statuses each operation may answer added in one place (ErrorResponses), and timestamps that carry their zone."""
from __future__ import annotations

import http
from datetime import datetime, timezone

from apispec import BasePlugin
from flask import Flask
from flask_smorest import Api
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map

from .errors import PROBLEM

# What each error status means on a CERES service, as API readers see it.
ERROR_DESCRIPTIONS = {
    400: "Corps de requête mal formé (JSON invalide).",
    401: "Authentification requise : jeton absent, invalide ou expiré.",
    403: "Le rôle de l'appelant n'autorise pas cette action.",
    404: "Enregistrement introuvable, ou hors du périmètre de l'appelant.",
    409: "Conflit avec l'état de l'enregistrement (version périmée, doublon, étape déjà franchie).",
    410: "Lien expiré.",
    413: "Requête trop volumineuse.",
    415: "Le corps de la requête doit être du JSON.",
    422: "Données invalides ; `errors` donne les messages champ par champ.",
    429: "Trop de tentatives ; `Retry-After` dit quand réessayer.",
    503: "Un service dont dépend la réponse est injoignable.",
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
HTTP_METHODS = WRITE_METHODS | {"get", "head", "options"}


class ProblemSchema(Schema):
    """RFC 9457 problem details, as ceres_shared.errors.problem writes them (other members may follow)."""

    class Meta:
        unknown = INCLUDE

    type = fields.Str(required=True, metadata={"description": "`about:blank`, ou `about:blank#<code>`"})
    title = fields.Str(required=True)
    status = fields.Int(required=True)
    detail = fields.Str(required=True, metadata={"description": "Message en français pour l'utilisateur"})
    code = fields.Str(metadata={"description": "Code stable de l'erreur, pour les programmes"})
    errors = fields.Dict(keys=fields.Str(), values=fields.Raw(),
                         metadata={"description": "Messages par champ (liste de textes, ou objet par sous-champ)"})
    correlation_id = fields.Str()


class Described(Schema):
    """Base of the schemas that only document a body a view builds itself (`@blp.alt_response(200, success=True,
    schema=...)`): never used to dump, and open to members added later (additionalProperties)."""

    class Meta:
        unknown = INCLUDE


def rfc3339(value: datetime | None) -> str | None:
    """A timestamp as RFC 3339 `date-time`, with its offset: SQLite (embedded mode) gives back naive datetimes for
    timestamptz columns, and CERES stores them in UTC."""
    if value is None:
        return None
    return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value).isoformat()


class UtcDateTime(fields.DateTime):
    """A timestamp always written with its offset (RFC 3339 `date-time`): SQLite (embedded mode) gives back naive
    datetimes for timestamptz columns, and CERES stores them in UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class RecordId(IntegerConverter):
    """`<int:...>` in a route is a record id (candidates, relaxations, controls: INTEGER columns), 1 to 2**31 - 1:
    beyond, no record can exist, so 404 (and documented bounds) rather than the database refusing the value."""

    def __init__(self, map, fixed_digits=0, min=1, max=2**31 - 1, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits, min, max, signed)


class ServiceMap(Map):
    default_converters = {**Map.default_converters, "int": RecordId}


def route_methods(adapter) -> list[str]:
    """The methods of the route the request's path belongs to. werkzeug lists those of every rule the path matches:
    GET /centres/registration-preview advertised PATCH too, from PATCH /centres/<centre_id>. The route is the most
    literal of the matching rules (fewest variables), as werkzeug's matcher prefers."""
    rules = []
    for method in adapter.allowed_methods():
        try:
            rules.append(adapter.match(method=method, return_rule=True)[0])
        except HTTPException:
            continue
    if not rules:
        return []
    fewest = min(len(rule.arguments) for rule in rules)
    return sorted({method for rule in rules if len(rule.arguments) == fewest for method in rule.methods})


class ServiceFlask(Flask):
    """The services' Flask: record ids bounded (RecordId), OPTIONS answering the route's own methods."""

    url_map_class = ServiceMap

    def make_default_options_response(self):
        from flask.globals import request_ctx

        response = self.response_class()
        response.allow.update(route_methods(request_ctx.url_adapter))
        return response


def protected(view) -> bool:
    """Whether the endpoint checks a permission (ceres_shared.auth.require): a bearer token is then needed."""
    return getattr(view, "ceres_action", None) is not None


def common_errors(method: str, rule, view, operation: dict) -> list[int]:
    """The error statuses any operation of this shape may answer, from what the shared app factory does: the
    permission check (401/403, 503 when the JWKS cannot be fetched), the path's ids (404), the arguments' validation
    (422), the JSON body (400, 413, 415) and writes (409)."""
    statuses = []
    if protected(view):
        statuses += [401, 403, 503]
    if rule is not None and rule.arguments:
        statuses.append(404)
    has_body = "requestBody" in operation
    if has_body:
        statuses += [400, 413, 415]
    if has_body or any(p.get("in") == "query" for p in operation.get("parameters", ()) if isinstance(p, dict)):
        statuses.append(422)
    if method in WRITE_METHODS:
        statuses.append(409)
    return sorted(statuses)


def problem_doc(blp, status: int, description: str | None = None):
    """`@problem_doc(blp, 429, "...")` under `@blp.route`: an error this endpoint answers beyond common_errors (or
    the same status, said for this endpoint), as problem+json."""
    return blp.alt_response(status, schema=ProblemSchema, content_type=PROBLEM,
                            description=description or ERROR_DESCRIPTIONS.get(status) or http.HTTPStatus(status).phrase,
                            headers=RETRY_AFTER if status == 429 else None)


RETRY_AFTER = {"Retry-After": {"description": "Secondes à attendre avant de réessayer", "schema": {"type": "integer"}}}


class ErrorResponses(BasePlugin):
    """apispec plugin: adds each operation's common error responses (common_errors) unless the endpoint documents
    its own for that status (@blp.alt_response(status, response=<HTTPStatus name>) for the others: 429, 503...)."""

    def __init__(self, app):
        super().__init__()
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        view = self.app.view_functions.get(rule.endpoint) if rule is not None else None
        for method, operation in (operations or {}).items():
            if method not in HTTP_METHODS:
                continue
            if protected(view):
                operation.setdefault("security", [{"bearer": []}])
            responses = operation.setdefault("responses", {})
            for status in common_errors(method, rule, view, operation):
                if status not in responses and str(status) not in responses:
                    responses[status] = http.HTTPStatus(status).name
            operation["responses"] = dict(sorted(responses.items(), key=lambda item: str(item[0])))


class CeresApi(Api):
    """flask-smorest's Api with problem+json errors and no catch-all `default` response: every status an operation
    answers is listed, so that a client (and schemathesis' conformance checks) knows what to expect."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app):
        super().__init__(app, spec_kwargs={"extra_plugins": [ErrorResponses(app)]})

    def _register_responses(self):
        # One component per error status (named as http.HTTPStatus: UNAUTHORIZED, NOT_FOUND...), lazily: only those
        # referenced appear in the document; @blp.arguments' 422 refers to UNPROCESSABLE_ENTITY.
        self.spec.components.schema("Problem", schema=ProblemSchema)
        self.spec.components.security_scheme("bearer", {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "Jeton d'accès EdDSA du service d'identité (JWKS : /.well-known/jwks.json)"})
        for status in http.HTTPStatus:
            if status < 400:
                continue
            response = {"description": ERROR_DESCRIPTIONS.get(status, status.phrase),
                        "content": {PROBLEM: {"schema": "Problem"}}}
            if status == 429:
                response["headers"] = RETRY_AFTER
            self.spec.components.response(status.name, response, lazy=True)
