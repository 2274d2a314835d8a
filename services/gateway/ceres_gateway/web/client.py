"""The pages call the services through their HTTP APIs — the same URLs the /api proxy uses — with the user's
token from the web session; a problem+json answer becomes a ServiceError whose field errors the forms show."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import requests
from flask import g, has_request_context, request

from ceres_shared import correlation

from . import security

log = logging.getLogger(__name__)


class ServiceError(Exception):
    def __init__(self, status: int, detail: str, errors: dict[str, list[str]] | None = None, code: str | None = None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors or {}
        self.code = code


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """{"adresse": {"code_postal": ["…"]}} -> {"adresse.code_postal": ["…"]}: one key per form field."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(errors, list) and all(isinstance(m, str) for m in errors):
        flat[prefix or "_"] = list(errors)
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            flat.update(flatten_errors(value, f"{prefix}.{index}"))
    elif errors is not None:
        flat[prefix or "_"] = [str(errors)]
    return flat


@dataclass
class Result:
    status: int
    data: object
    headers: dict = field(default_factory=dict)


class ServiceClient:
    def __init__(self, urls: dict[str, str], http: requests.Session, timeout: float = 30.0):
        self.urls = urls
        self.http = http
        self.timeout = timeout

    def call(self, method: str, service: str, path: str, *, token: str | None = None, json=None,
             params=None) -> Result:
        headers = {"Accept": "application/json", "X-Correlation-ID": correlation.get() or ""}
        if has_request_context() and request.remote_addr:
            # The visitor's address, not ours: identity's rate limits count per visitor (IDENTITY_TRUST_PROXY).
            headers["X-Forwarded-For"] = request.remote_addr
        if token:
            headers["Authorization"] = f"Bearer {token}"
        headers.update(security.idempotency_header(method, service, path, json, params))
        try:
            response = self.http.request(method, f"{self.urls[service]}{path}", json=json, params=params,
                                         headers=headers, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("service %s unreachable from the web pages: %s", service, exc)
            raise ServiceError(503, f"Le service « {service} » est momentanément indisponible. Réessayez dans un "
                                    "instant.") from exc
        try:
            data = response.json() if response.content else None
        except ValueError:
            data = None
        if response.status_code == 429 and has_request_context():
            g.retry_after = response.headers.get("Retry-After")  # L6: the page answering 429 says it too
        if response.status_code >= 400:
            body = data if isinstance(data, dict) else {}
            detail = body.get("detail") or "Le service a refusé la demande."
            raise ServiceError(response.status_code, detail, flatten_errors(body.get("errors")), body.get("code")
                               or (body.get("type", "").partition("#")[2] or None))
        return Result(response.status_code, data, dict(response.headers))
