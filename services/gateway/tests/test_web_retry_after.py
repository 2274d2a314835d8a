"""L6: when identity says to wait (429 with Retry-After), the log-in page answers 429 too, with the same
Retry-After and identity's French message giving the wait; the /api proxy passes the header on unchanged."""
from __future__ import annotations

import html
import re
import threading

import pytest
from werkzeug.serving import make_server

from ceres_gateway.app import create_app as create_gateway

DOWN = {name: "http://127.0.0.1:9" for name in ("establishments", "sessions", "candidates", "printing")}


@pytest.fixture(scope="module")
def gateway(infra, amqp_url, issuer):
    from ceres_identity.app import create_app as identity_app
    from ceres_identity.testing import build_identity

    runtime = build_identity(infra, amqp_url, issuer, "smtp://127.0.0.1:9", login_max_failures=2)
    server = make_server("127.0.0.1", 0, identity_app(runtime), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield create_gateway({**DOWN, "identity": f"http://127.0.0.1:{server.server_port}"}, timeout=5)
    server.shutdown()
    runtime.stop_background()
    runtime.engine.dispose()


def log_in(client, email: str):
    form = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    return client.post("/connexion", data={"csrf_token": token, "email": email, "password": "Mauvais-mot-2-passe"})


def test_L6_the_login_page_says_how_long_to_wait_and_sends_retry_after(gateway):
    client = gateway.test_client()
    assert [log_in(client, "attente@ceres.test").status_code for _ in range(2)] == [401, 401]
    page = log_in(client, "attente@ceres.test")
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert page.headers["Retry-After"] == "60"  # identity's first wait in tests (ceres_identity.testing)
    assert "Trop de tentatives. Veuillez réessayer dans 1 minute." in html.unescape(page.get_data(as_text=True))


def test_L6_the_api_proxy_passes_retry_after_on(gateway):
    client = gateway.test_client()
    body = {"email": "api-attente@ceres.test", "password": "Mauvais-mot-2-passe"}
    assert [client.post("/api/identity/auth/login", json=body).status_code for _ in range(2)] == [401, 401]
    refused = client.post("/api/identity/auth/login", json=body)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert refused.get_json()["detail"] == "Trop de tentatives. Veuillez réessayer dans 1 minute."
