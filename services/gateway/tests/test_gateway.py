"""The gateway over real HTTP on loopback: two real services behind it (their apps on their databases),
routing, the caller's token and correlation id passed through, upstream errors kept, a service down → 503,
and the merged OpenAPI document."""
from __future__ import annotations

import threading

import pytest
import requests
from werkzeug.serving import make_server

from ceres_gateway.app import create_app as create_gateway
from ceres_shared.testing.plugin import build_runtime


class Served:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()


@pytest.fixture(scope="module")
def platform(infra, amqp_url, issuer):
    from ceres_establishments.app import create_app as est_app
    from ceres_sessions.app import create_app as ses_app

    runtimes = [build_runtime(infra, amqp_url, issuer, name) for name in ("establishments", "sessions")]
    est, ses = Served(est_app(runtimes[0])), Served(ses_app(runtimes[1]))
    urls = {"establishments": est.url, "sessions": ses.url, "candidates": "http://127.0.0.1:9",
            "printing": "http://127.0.0.1:9", "identity": "http://127.0.0.1:9"}
    gateway = Served(create_gateway(urls, timeout=5))
    yield gateway.url
    for served in (gateway, est, ses):
        served.close()
    for runtime in runtimes:
        runtime.engine.dispose()


def test_routes_to_each_service_and_keeps_the_correlation_id(platform):
    for name in ("establishments", "sessions"):
        response = requests.get(f"{platform}/api/{name}/readyz", headers={"X-Correlation-ID": f"cid-{name}"})
        assert response.status_code == 200
        assert response.json()["service"] == name
        assert response.headers["X-Correlation-ID"] == f"cid-{name}"


def test_passes_the_token_and_keeps_upstream_errors(platform, issuer):
    url = f"{platform}/api/sessions/history/session/1"
    anonymous = requests.get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["Content-Type"] == "application/problem+json"
    assert anonymous.json()["detail"] == "Veuillez vous connecter."
    token = issuer.issue("agent-1", "dgefp")
    assert requests.get(url, headers={"Authorization": f"Bearer {token}"}).json() == []


def test_unknown_or_unreachable_service(platform):
    unknown = requests.get(f"{platform}/api/nowhere/healthz")
    assert unknown.status_code == 404
    down = requests.get(f"{platform}/api/candidates/healthz")
    assert down.status_code == 503
    assert "candidates" in down.json()["detail"]
    ready = requests.get(f"{platform}/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["establishments"] == "ok"
    assert ready.json()["checks"]["identity"] == "unreachable"


def test_merged_openapi_prefixes_paths_and_names_the_missing_services(platform):
    spec = requests.get(f"{platform}/api/openapi.json").json()
    assert "/api/establishments/history/{entity_type}/{entity_id}" in spec["paths"]
    assert "/api/sessions/history/{entity_type}/{entity_id}" in spec["paths"]
    assert sorted(spec["info"]["x-unavailable-services"]) == ["candidates", "identity", "printing"]
    refs = str(spec["paths"])
    for ref in [r for r in refs.split("'") if r.startswith("#/components/schemas/")]:
        assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"]


def test_metrics_are_not_served_to_the_outside(platform):
    """Prometheus scrapes each pod directly; through the Ingress (which adds X-Forwarded-For) or the API routes,
    the metrics are not served."""
    direct = requests.get(f"{platform}/metrics")
    assert direct.status_code == 200
    assert "ceres_http_requests_total" in direct.text
    assert requests.get(f"{platform}/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 404
    proxied = requests.get(f"{platform}/api/sessions/metrics")
    assert proxied.status_code == 404
    assert proxied.json()["detail"] == "Ressource introuvable."
