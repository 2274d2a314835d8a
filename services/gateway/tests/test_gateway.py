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
    refs = str(spec["paths"]) + str(spec["components"])
    for ref in [r for r in refs.split("'") if r.startswith("#/components/")]:
        kind, name = ref.split("/")[2:]
        assert name in spec["components"][kind], ref
    assert "EstablishmentsProblem" in spec["components"]["schemas"]  # the problem+json errors (L9)
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_metrics_are_not_served_to_the_outside(platform):
    """Without CERES_METRICS_TOKEN, only a peer on this machine reads the gateway's figures (a forged
    X-Forwarded-For changes nothing: no proxy is trusted here); a service's are never proxied under /api/."""
    direct = requests.get(f"{platform}/metrics")
    assert direct.status_code == 200
    assert "ceres_http_requests_total" in direct.text
    assert requests.get(f"{platform}/metrics", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
    proxied = requests.get(f"{platform}/api/sessions/metrics")
    assert proxied.status_code == 404
    assert proxied.json()["detail"] == "Ressource introuvable."


def raw_get(base: str, path: str) -> tuple[int, str]:
    """GET with the path exactly as written (requests would resolve « .. » and re-encode)."""
    import http.client
    from urllib.parse import urlsplit

    connection = http.client.HTTPConnection(urlsplit(base).netloc, timeout=5)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


@pytest.mark.parametrize("path", ["/api/sessions/metrics%3F", "/api/sessions/metrics%3Fx=1",
                                  "/api/sessions/x/../metrics",
                                  "/api/sessions/./metrics", "/api/sessions/x/%2e%2e/metrics",
                                  "/api/sessions/x%2F..%2Fmetrics", "/api/sessions/%2e/metrics",
                                  "/api/sessions/metrics%23", "/api/sessions/x%5C..%5Cmetrics"])
def test_no_encoding_or_dot_segment_reaches_a_service_metrics_m5(platform, path):
    status, body = raw_get(platform, path)
    assert status == 400, (path, status)
    assert "ceres_http_requests_total" not in body and "Adresse invalide." in body


def test_a_service_metrics_stay_hidden_under_any_spelling_m5(platform):
    for path in ("/api/sessions/metrics/", "/api/sessions/metrics/x", "/api/sessions//metrics"):
        status, body = raw_get(platform, path)
        assert status in (404, 308) and "ceres_http_requests_total" not in body, path
    # The ordinary routes still pass, with their encoded characters.
    assert raw_get(platform, "/api/sessions/history/session/un%20id")[0] == 401


def test_gateway_metrics_need_the_token_from_elsewhere_m5(monkeypatch):
    monkeypatch.delenv("CERES_METRICS_TOKEN", raising=False)
    remote = {"REMOTE_ADDR": "198.51.100.4"}
    assert create_gateway(DOWN, timeout=1).test_client().get("/metrics", environ_base=remote).status_code == 404
    monkeypatch.setenv("CERES_METRICS_TOKEN", "jeton-de-prometheus-assez-long-0123456789")
    gateway = create_gateway(DOWN, timeout=1).test_client()
    for headers in ({}, {"Authorization": "Bearer autre-chose"}, {"Authorization": "jeton-de-prometheus"}):
        assert gateway.get("/metrics", headers=headers).status_code == 404  # loopback too, once a token is set
    scraped = gateway.get("/metrics", environ_base=remote,
                          headers={"Authorization": "Bearer jeton-de-prometheus-assez-long-0123456789"})
    assert scraped.status_code == 200 and "ceres_http_requests_total" in scraped.get_data(as_text=True)


DOWN = {name: "http://127.0.0.1:9" for name in ("establishments", "sessions", "candidates", "printing", "identity")}


@pytest.fixture(scope="module")
def echo():
    """An upstream that says what it received: path, X-Forwarded-* headers."""
    from flask import Flask, request

    app = Flask("echo")

    @app.route("/<path:path>", methods=["GET", "POST", "OPTIONS"])
    def any_path(path):
        return {"path": request.path, "xff": request.headers.get("X-Forwarded-For"),
                "proto": request.headers.get("X-Forwarded-Proto"), "real_ip": request.headers.get("X-Real-IP")}

    served = Served(app)
    yield {name: served.url for name in DOWN}
    served.close()


def test_dev_routes_are_never_proxied_m7(echo):
    gateway = create_gateway(echo, timeout=5).test_client()
    for method, path in (("POST", "/api/identity/dev/tokens"), ("GET", "/api/identity/dev/"),
                         ("POST", "/api/sessions/dev/tokens"), ("POST", "/api/identity/dev")):
        answer = gateway.open(path, method=method, json={"role": "admin"})
        assert answer.status_code in (404, 405), (method, path, answer.status_code)
        assert "path" not in (answer.get_json(silent=True) or {})
    assert gateway.get("/api/identity/devices").get_json()["path"] == "/devices"  # only the « dev » segment


@pytest.mark.parametrize("hops, remote, sent, seen", [
    (0, "198.51.100.7", None, "198.51.100.7"),
    (0, "198.51.100.7", "203.0.113.50", "198.51.100.7"),  # no proxy trusted: the client's header is ignored
    (1, "10.0.0.1", "198.51.100.7", "198.51.100.7"),  # the ingress's word
    (1, "10.0.0.1", "203.0.113.50, 198.51.100.7", "198.51.100.7"),  # the client's own claim before it is ignored
])
def test_the_services_get_the_client_address_from_the_trusted_proxies_only_m2(monkeypatch, echo, hops, remote,
                                                                               sent, seen):
    monkeypatch.setenv("CERES_TRUSTED_PROXIES", str(hops))
    gateway = create_gateway(echo, timeout=5).test_client()
    headers = {"X-Real-IP": "203.0.113.51", "X-Forwarded-Proto": "https"}
    if sent:
        headers["X-Forwarded-For"] = sent
    got = gateway.get("/api/identity/auth/x", headers=headers, environ_base={"REMOTE_ADDR": remote}).get_json()
    assert got["xff"] == seen and got["real_ip"] is None
    assert got["proto"] == ("https" if hops else "http")


def test_two_visitors_have_their_own_address_limit_at_identity_m2(monkeypatch, infra, amqp_url, issuer):
    """Real identity (counting failed log-ins per address, trusting the gateway) behind the gateway, behind one
    ingress: one visitor locked out does not lock out another, whatever X-Forwarded-For a visitor forges."""
    from ceres_identity.app import create_app as identity_app
    from ceres_identity.testing import build_identity

    runtime = build_identity(infra, amqp_url, issuer, "smtp://127.0.0.1:9", ip_max_requests=3, trust_proxy=True)
    identity = Served(identity_app(runtime))
    monkeypatch.setenv("CERES_TRUSTED_PROXIES", "1")
    gateway = create_gateway({**DOWN, "identity": identity.url}, timeout=5).test_client()
    ingress = {"REMOTE_ADDR": "10.0.0.1"}

    def login(n: int, xff: str) -> int:
        return gateway.post("/api/identity/auth/login", json={"email": f"inconnu{n}@ceres.test", "password": "x"},
                            headers={"X-Forwarded-For": xff}, environ_base=ingress).status_code

    try:
        assert [login(n, "198.51.100.1") for n in range(3)] == [401, 401, 401]
        assert login(3, "198.51.100.1") == 429
        assert login(4, "203.0.113.9, 198.51.100.1") == 429  # a forged first hop does not free visitor 1
        assert login(5, "198.51.100.2") == 401  # visitor 2 has its own count
        assert login(6, "198.51.100.1, 198.51.100.2") == 401  # and cannot be made to spend visitor 1's

        def page_login(n: int, xff: str) -> int:  # the log-in page asks identity for its visitor the same way
            import re

            browser = create_gateway({**DOWN, "identity": identity.url}, timeout=5).test_client()
            shown = browser.get("/connexion", headers={"X-Forwarded-For": xff}, environ_base=ingress)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', shown.get_data(as_text=True)).group(1)
            return browser.post("/connexion", data={"email": f"page{n}@ceres.test", "password": "x",
                                                    "csrf_token": csrf},
                                headers={"X-Forwarded-For": xff}, environ_base=ingress).status_code

        assert page_login(1, "198.51.100.1") == 429
        assert page_login(2, "198.51.100.3") == 401
    finally:
        identity.close()
        runtime.stop_background()
        runtime.engine.dispose()


def test_after_log_out_a_copied_cookie_opens_nothing_and_the_token_is_refused_l1(infra, amqp_url, issuer):
    """Real identity and sessions behind the gateway: an agent signs in, the cookie is copied, the agent signs
    out — the copy no longer renders an agent page, and its access token is refused by the service (not in up to
    15 minutes); the agent signs in again and works."""
    import re

    from ceres_identity import demo as identity_demo
    from ceres_identity.app import create_app as identity_app
    from ceres_identity.testing import build_identity
    from ceres_sessions.app import create_app as sessions_app
    from ceres_shared.revocation import PATH, Revocations

    ident = build_identity(infra, amqp_url, issuer, "smtp://127.0.0.1:9")
    identity_demo.seed(ident)
    identity = Served(identity_app(ident))
    runtime = build_runtime(infra, amqp_url, issuer, "sessions")
    app = sessions_app(runtime)
    app.extensions["ceres_revocations"] = Revocations.from_url(f"{identity.url}{PATH}", interval=0)
    sessions = Served(app)
    gateway = create_gateway({**DOWN, "identity": identity.url, "sessions": sessions.url}, timeout=5)

    def signed_in():
        browser = gateway.test_client()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/connexion").get_data(as_text=True))
        answer = browser.post("/connexion", data={"email": "ud01@ceres.demo", "password": "Ceres-demo-2024!",
                                                  "csrf_token": csrf.group(1)})
        assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
        return browser

    try:
        browser = signed_in()
        assert browser.get("/agent/controles").status_code == 200
        cookie = browser.get_cookie("ceres_session")
        copy = gateway.test_client()
        copy.set_cookie(cookie.key, cookie.value, domain=cookie.domain)
        assert copy.get("/agent/controles").status_code == 200  # the copy works while its owner is signed in
        token = gateway.session_interface.get_signing_serializer(gateway).loads(cookie.value)["token"]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/agent/controles").get_data(as_text=True))
        assert browser.post("/deconnexion", data={"csrf_token": csrf.group(1)}).status_code == 302

        after = copy.get("/agent/controles")
        assert after.status_code == 302 and after.headers["Location"].startswith("/connexion")
        refused = requests.get(f"{sessions.url}/controles", headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 401
        assert refused.json()["detail"] == "Votre session a pris fin, veuillez vous reconnecter."
        through = requests.get(f"{identity.url}/me", headers={"Authorization": f"Bearer {token}"})
        assert through.status_code == 401  # identity itself too
        import time

        time.sleep(1.1)  # a new log-in in a later second than the log-out's
        assert signed_in().get("/agent/controles").status_code == 200
        assert gateway.test_client().get(f"/api/identity{PATH}").status_code == 404  # never routed
    finally:
        for served in (sessions, identity):
            served.close()
        for rt in (runtime, ident):
            rt.stop_background()
            rt.engine.dispose()
