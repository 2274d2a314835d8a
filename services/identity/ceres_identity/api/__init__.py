"""HTTP edge of the identity service: flask-smorest blueprints, marshmallow schemas."""
from flask import request

from ceres_shared.web import runtime


def client_ip() -> str:
    """The caller's address for rate limits; behind a trusted proxy (IDENTITY_TRUST_PROXY=1), the first
    X-Forwarded-For hop."""
    if runtime().identity.config.trust_proxy and request.access_route:
        return request.access_route[0]
    return request.remote_addr or "unknown"
