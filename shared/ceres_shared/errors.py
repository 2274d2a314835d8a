"""Errors as application/problem+json (RFC 9457) with a per-field `errors` map and a French `detail`."""
from __future__ import annotations

import logging

from flask import Flask, Response, json, request
from marshmallow import ValidationError
from sqlalchemy.exc import DataError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from .db import CONCURRENT_CHANGE

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"

TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    413: "Requête trop volumineuse",
    415: "Type de contenu non pris en charge",
    422: "Données invalides",
    429: "Trop de requêtes",
    500: "Erreur interne",
    503: "Service indisponible",
}

# marshmallow's English messages, as users should read them.
FRENCH_MESSAGES = {
    "Missing data for required field.": "Ce champ est obligatoire.",
    "Unknown field.": "Champ inconnu.",
    "Field may not be null.": "Ce champ ne peut pas être vide.",
    "Not a valid string.": "Texte attendu.",
    "Not a valid integer.": "Nombre entier attendu.",
    "Not a valid number.": "Nombre attendu.",
    "Not a valid boolean.": "Valeur oui/non attendue.",
    "Not a valid date.": "Date invalide (format attendu : AAAA-MM-JJ).",
    "Not a valid datetime.": "Date et heure invalides.",
    "Not a valid email address.": "Adresse électronique invalide.",
    "Not a valid UUID.": "Identifiant invalide.",
    "Not a valid list.": "Liste attendue.",
    "Not a valid mapping type.": "Objet attendu.",
    "Invalid input type.": "Type de donnée invalide.",
    "Invalid value.": "Valeur invalide.",
    "Must be one of: {choices}.": "Valeur non autorisée.",
    "Invalid JSON body.": "Le corps de la requête n'est pas un JSON valide.",
}


def french(messages):
    """Translate marshmallow's messages recursively, keeping the field structure."""
    if isinstance(messages, dict):
        return {k: french(v) for k, v in messages.items()}
    if isinstance(messages, list):
        return [french(m) for m in messages]
    if isinstance(messages, str):
        if messages in FRENCH_MESSAGES:
            return FRENCH_MESSAGES[messages]
        if messages.startswith("Must be one of:"):
            return "Valeur non autorisée (" + messages.removeprefix("Must be one of:").strip().rstrip(".") + ")."
        if messages.startswith("Shorter than minimum length"):
            return "Trop court."
        if messages.startswith("Longer than maximum length"):
            return "Trop long."
        if messages.startswith("Length must be between"):
            return "Longueur invalide."
        return messages
    return messages


class ApiError(Exception):
    """Raised by handlers for a user-facing error: status, French detail, optional field errors."""

    def __init__(self, status: int, detail: str, *, errors: dict | None = None, code: str | None = None, **extra):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors
        self.code = code
        self.extra = extra
        self.refused: tuple[str, str] | None = None  # (record type, id) when refused for being out of scope

    def outside_scope(self, entity_type: str, entity_id) -> "ApiError":
        """Marks the refusal as one of a real record outside the caller's scope (I4): the error handler traces
        it (audit.record_scope_refusal), for the national administration to see. Not for an id that exists
        nowhere."""
        self.refused = (entity_type, str(entity_id))
        return self


class Conflict(ApiError):
    def __init__(self, detail: str, **kw):
        super().__init__(409, detail, **kw)


class NotFound(ApiError):
    def __init__(self, detail: str = "Ressource introuvable.", **kw):
        super().__init__(404, detail, **kw)


class TooManyRequests(ApiError):
    """429 with the wait: `retry_after` seconds in the body and in the Retry-After header (L6)."""

    def __init__(self, detail: str, retry_after: int, **kw):
        super().__init__(429, detail, retry_after=max(1, int(retry_after)), **kw)


# A 429 that did not say how long to wait (werkzeug's own, say) still tells a client when to try again.
DEFAULT_RETRY_AFTER = 60


class Forbidden(ApiError):
    def __init__(self, detail: str = "Vous n'avez pas les droits pour cette action.", **kw):
        super().__init__(403, detail, **kw)


def problem(status: int, detail: str, *, errors=None, code=None, **extra) -> Response:
    body = {"type": f"about:blank#{code}" if code else "about:blank", "title": TITLES.get(status, "Erreur"),
            "status": status, "detail": detail}
    if code:
        body["code"] = code  # also in `type`; a member of its own for programs (the Problem schema's `code`)
    if errors:
        body["errors"] = errors
    body.update(extra)
    from . import correlation

    cid = correlation.get()
    if cid:
        body["correlation_id"] = cid
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM)
    if status == 429:  # L6: every 429 says when to try again
        response.headers["Retry-After"] = str(body.get("retry_after") or DEFAULT_RETRY_AFTER)
    return response


def install(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        if exc.refused is not None:
            from .audit import record_scope_refusal

            record_scope_refusal(exc)
        return problem(exc.status, exc.detail, errors=exc.errors, code=exc.code, **exc.extra)

    @app.errorhandler(ValidationError)
    def _validation(exc: ValidationError):
        return problem(422, "Certaines données sont invalides.", errors=french(exc.normalized_messages()))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        status = exc.code or 500
        # flask-smorest/webargs put the field messages in exc.data["messages"]
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages")
        if messages:
            # webargs groups by location ("json", "query"); the fields are what users need.
            flat = {}
            for location, fields in messages.items():
                if isinstance(fields, dict):
                    flat.update(fields)
                else:
                    flat[location] = fields
            if status == 400:  # webargs: the body is not JSON at all
                return problem(400, "Le corps de la requête n'est pas un JSON valide.", errors=french(flat))
            return problem(status, "Certaines données sont invalides.", errors=french(flat))
        if status == 400 and request.is_json is False and request.data:
            return problem(415, "Le corps de la requête doit être du JSON (Content-Type: application/json).")
        if status == 405 and getattr(exc, "valid_methods", None):
            from flask.globals import request_ctx

            from .openapi import route_methods

            # The route's methods, not those of every rule the path matches (see route_methods); none when werkzeug
            # matched a path only by its pattern, its converter then refusing the value (an id of 0): no such record.
            methods = route_methods(request_ctx.url_adapter) if request_ctx.url_adapter else exc.valid_methods
            if not methods:
                return problem(404, "La ressource demandée n'existe pas.")
        detail = {
            400: "La requête est mal formée.",
            401: "Veuillez vous connecter.",
            403: "Vous n'avez pas les droits pour cette action.",
            404: "La ressource demandée n'existe pas.",
            405: "Cette méthode n'est pas autorisée sur cette adresse.",
            413: "La requête est trop volumineuse.",
            415: "Type de contenu non pris en charge.",
            429: "Trop de requêtes : veuillez réessayer dans une minute.",
        }.get(status, exc.description or "Erreur.")
        response = problem(status, detail)
        if status == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(methods)
        return response

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError):
        # A version column (version_id_col) moved under the request: someone else's change committed first.
        log.info("concurrent change refused: %s", exc)
        return problem(409, CONCURRENT_CHANGE, code="stale")

    @app.errorhandler(DataError)
    def _out_of_range(exc: DataError):
        # The database refused a value the schemas let through (a number beyond the column's range, say):
        # bad input, not a crash.
        log.warning("value refused by the database: %s", exc.orig)
        return problem(422, "Une valeur dépasse les limites acceptées.", code="out_of_range")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error")
        return problem(500, "Une erreur inattendue est survenue. L'équipe technique a été prévenue.")
