"""The web pages' protections with the Flask test client (no service behind): CSRF on every form, the strict
Content-Security-Policy and security headers, the session cookie's flags, log-in required, safe redirects, and
/api/… still answering problem+json."""
from __future__ import annotations

import re

import pytest

from ceres_gateway.app import create_app
from ceres_gateway.web import security
from ceres_gateway.web.blueprint import safe_next

DOWN = {name: "http://127.0.0.1:9" for name in ("establishments", "sessions", "candidates", "printing", "identity")}


@pytest.fixture(scope="module")
def app():
    return create_app(DOWN, timeout=1)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_of(client, path="/connexion") -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_every_page_has_a_strict_csp_and_security_headers(client):
    for path in ("/connexion", "/verification", "/connexion/demonstration", "/page-inconnue"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"
        html = response.get_data(as_text=True)
        # Nothing inline for the CSP to block: no <script> body, no style attribute, no <style>, no on* handler.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", html)


def test_unknown_page_is_a_french_page_but_api_errors_stay_problem_json(client):
    page = client.get("/page-inconnue")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "Page introuvable" in page.get_data(as_text=True)
    api = client.get("/api/nowhere/x")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"
    assert api.get_json()["detail"] == "Service inconnu : nowhere."
    down = client.get("/api/identity/healthz")
    assert down.status_code == 503 and down.mimetype == "application/problem+json"


def test_session_cookie_is_httponly_lax_and_secure_only_over_tls(app):
    plain = app.test_client().get("/connexion").headers["Set-Cookie"]
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    tls = app.test_client().get("/connexion", base_url="https://ceres.example").headers["Set-Cookie"]
    assert "HttpOnly" in tls and "SameSite=Lax" in tls and "Secure" in tls


def test_forms_refuse_a_post_without_the_session_csrf_token(client):
    missing = client.post("/connexion", data={"email": "a@b.fr", "password": "x"})
    assert missing.status_code == 400
    assert "Le formulaire a expiré" in missing.get_data(as_text=True)
    other_client_token = csrf_of(create_app(DOWN).test_client())
    forged = client.post("/connexion", data={"email": "a@b.fr", "password": "x", "csrf_token": other_client_token})
    assert forged.status_code == 400
    assert client.post("/deconnexion").status_code == 400
    good = client.post("/connexion", data={"email": "", "password": "", "csrf_token": csrf_of(client)})
    assert good.status_code == 422  # past the CSRF check, into the form's own validation


def test_login_form_errors_are_next_to_their_fields(client):
    response = client.post("/connexion", data={"email": "  ", "password": "", "csrf_token": csrf_of(client)})
    html = response.get_data(as_text=True)
    assert re.search(r'id="email-erreur" class="fr-error-text">Saisissez votre adresse électronique\.', html)
    assert re.search(r'id="password-erreur" class="fr-error-text">Saisissez votre mot de passe\.', html)
    assert 'aria-describedby="email-erreur"' in html and 'aria-invalid="true"' in html


def test_identity_down_is_said_on_the_login_page(client):
    response = client.post("/connexion", data={"email": "a@b.fr", "password": "x", "csrf_token": csrf_of(client)})
    assert response.status_code == 503
    assert "Le service « identity » est momentanément indisponible" in response.get_data(as_text=True)


def test_pages_of_signed_in_users_redirect_to_the_login_page(client):
    for path in ("/tableau-de-bord", "/centres?q=lyon", "/centres/nouveau", "/sites/x/transfert"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/connexion?suivant=/")


def test_after_login_only_local_paths_are_followed(app):
    with app.test_request_context():
        for local in ("/centres?q=lyon", "/agent/sessions?page=2&statut=a%20valider", "/agent/pnd#ligne-3"):
            assert safe_next(local) == local
        hostile = ("https://evil.example/", "//evil.example/x", "javascript:alert(1)", "", None, "/",
                   "/\\evil.example", "\\/evil.example", "/\\/evil.example", "///evil.example", "/%5Cevil.example",
                   "/%5cevil.example", "/%2F%2Fevil.example", "/%2fevil.example", "/\tevil", "/\t/evil.example",
                   "/\n/evil.example", "\t//evil.example", "/x\r\nSet-Cookie: a=b", "/a\\b", "/\x7f/evil",
                   "evil.example", "https:/evil.example", "http:evil.example")
        for target in hostile:
            assert safe_next(target) == "/tableau-de-bord", target


STRONG = "k8J2m-Qw0rZ7pL4nX9vB3cT6yH1sD5fG"  # 32 characters, not a default


def test_production_refuses_the_development_secret(monkeypatch):
    monkeypatch.delenv("CERES_SECRET_KEY", raising=False)
    monkeypatch.setenv("AMQP_URL", "amqp://broker")
    monkeypatch.setenv("CERES_TESTING", "0")
    with pytest.raises(security.ConfigError):
        security.secret_key()
    monkeypatch.setenv("CERES_SECRET_KEY", STRONG)
    assert security.secret_key() == STRONG


@pytest.mark.parametrize("weak", ["dev-only-secret", "CHANGE_ME", "changeme", "secret", "s3cret",
                                  "dev-only-insecure-secret-key", "x" * 64, "CHANGE_ME" + "0" * 40])
def test_the_gateway_refuses_a_weak_secret_whenever_embedded_mode_did_not_start_it_m6(monkeypatch, weak):
    """The Kubernetes gateway has no AMQP_URL: it used to fall back to dev-only-secret, a key everyone knows."""
    monkeypatch.delenv("AMQP_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CERES_TESTING", "0")
    monkeypatch.delenv("CERES_SECRET_KEY", raising=False)
    with pytest.raises(security.ConfigError, match="CERES_SECRET_KEY"):
        create_app(DOWN, timeout=1)
    monkeypatch.setenv("CERES_SECRET_KEY", weak)
    with pytest.raises(security.ConfigError, match="CERES_SECRET_KEY"):
        create_app(DOWN, timeout=1)
    monkeypatch.setenv("CERES_SECRET_KEY", STRONG)
    assert create_app(DOWN, timeout=1).secret_key == STRONG


def test_embedded_gateway_without_a_secret_makes_a_random_one_per_var_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("CERES_TESTING", "0")
    monkeypatch.delenv("CERES_SECRET_KEY", raising=False)
    monkeypatch.setenv("CERES_VAR_DIR", str(tmp_path))
    first = create_app(DOWN, timeout=1, embedded=True).secret_key
    assert len(first) >= 32 and first != "dev-only-secret"
    assert create_app(DOWN, timeout=1, embedded=True).secret_key == first  # the six processes share it


@pytest.mark.parametrize("host, allowed", [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                           ("0.0.0.0", False), ("192.0.2.10", False), ("::", False),
                                           ("ceres.example.org", False)])
def test_embedded_mode_listens_on_loopback_unless_a_public_demo_m7(monkeypatch, host, allowed):
    from ceres_shared.config import check_embedded_bind

    monkeypatch.delenv("CERES_DEMO_PUBLIC", raising=False)
    if allowed:
        check_embedded_bind(host)
    else:
        with pytest.raises(security.ConfigError, match="CERES_DEMO_PUBLIC=1"):
            check_embedded_bind(host)
    monkeypatch.setenv("CERES_DEMO_PUBLIC", "1")
    check_embedded_bind(host)


def test_python_m_ceres_gateway_refuses_a_public_bind_m7(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("CERES_DEMO_PUBLIC", "AMQP_URL", "DATABASE_URL")}
    env["CERES_VAR_DIR"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-m", "ceres_gateway", "--host", "0.0.0.0", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "CERES_DEMO_PUBLIC=1" in done.stderr


@pytest.mark.parametrize("hops, proto, tls", [(0, None, False), (0, "https", False), (1, "https", True),
                                              (1, "http", False)])
def test_hsts_and_secure_cookie_behind_the_trusted_proxy_only(monkeypatch, hops, proto, tls):
    """Behind the ingress (one trusted proxy), X-Forwarded-Proto says TLS; sent by a client that reaches the
    gateway directly, it says nothing."""
    monkeypatch.setenv("CERES_TRUSTED_PROXIES", str(hops))
    headers = {"X-Forwarded-Proto": proto, "X-Forwarded-For": "198.51.100.3"} if proto else {}
    answer = create_app(DOWN, timeout=1).test_client().get("/connexion", headers=headers)
    assert ("Secure" in answer.headers["Set-Cookie"]) is tls
    assert (answer.headers.get("Strict-Transport-Security") == security.HSTS) is tls
    if tls:
        assert "max-age=31536000" in security.HSTS


def test_a_session_lasts_12_hours_idle_not_31_days_l1(app):
    from datetime import timedelta

    assert app.permanent_session_lifetime == timedelta(hours=12)
    assert app.config["SESSION_REFRESH_EACH_REQUEST"] is True  # idle time: each request renews the cookie


def test_the_session_cookie_is_sealed_not_only_signed_l1(app):
    """What the cookie carries (the user's tokens) cannot be read from it, nor a cookie made without the key."""
    import base64

    from flask.sessions import SecureCookieSessionInterface

    client = app.test_client()
    with client.session_transaction() as session:
        session["token"] = "jeton-d-acces-secret"
    value = client.get_cookie("ceres_session").value
    assert "jeton-d-acces-secret" not in base64.urlsafe_b64decode(value + "==").decode("latin-1")
    plain = SecureCookieSessionInterface().get_signing_serializer(app)
    with pytest.raises(Exception):
        plain.loads(value)
    assert app.session_interface.get_signing_serializer(app).loads(value)["token"] == "jeton-d-acces-secret"
    forged = app.test_client()
    forged.set_cookie("ceres_session", plain.dumps({"user": {"role": "admin", "sub": "x", "name": "x"}}))
    assert forged.get("/tableau-de-bord").status_code == 302  # not signed in


def test_direct_tls_sends_hsts(app):
    answer = app.test_client().get("/connexion", base_url="https://ceres.example")
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in app.test_client().get("/connexion").headers


@pytest.mark.parametrize("service_status, page_status", [(400, 400), (403, 403), (404, 404), (409, 409), (413, 413),
                                                         (422, 422), (401, 422), (429, 422), (500, 503), (502, 503)])
def test_a_service_refusal_keeps_its_status_on_the_page_and_a_failure_is_503(service_status, page_status):
    """One mapping for every page (agents' and centres'): a refusal the user can read keeps the service's status."""
    from ceres_gateway.web.blueprint import refusal_status
    from ceres_gateway.web.client import ServiceError

    assert refusal_status(ServiceError(service_status, "x")) == page_status


def test_every_form_carries_a_fresh_idempotency_key(client):
    keys = [re.search(r'name="idempotency_key" value="([^"]+)"', client.get("/connexion").get_data(as_text=True))
            for _ in range(2)]
    assert all(keys) and keys[0].group(1) != keys[1].group(1)


def test_a_form_sent_again_reaches_the_service_with_the_same_key(app):
    """The form's key becomes each call's Idempotency-Key: the same form sent again (after a cut connection)
    gives the same keys, so the service answers it as the first time; another call of the same form, its own."""
    import threading

    import requests
    from flask import Flask, request as upstream_request
    from werkzeug.serving import make_server

    from ceres_gateway.web.client import ServiceClient

    echo = Flask("echo")

    @echo.route("/<path:path>", methods=["GET", "POST", "PATCH"])
    def any_path(path):
        return {"key": upstream_request.headers.get("Idempotency-Key")}

    server = make_server("127.0.0.1", 0, echo, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    services = ServiceClient({"sessions": f"http://127.0.0.1:{server.server_port}"}, requests.Session(), 5)

    def keys_of(form: dict, calls):
        with app.test_request_context("/agent/x", method="POST", data=form):
            return [services.call(method, "sessions", path, json=body).data["key"] for method, path, body in calls]

    calls = [("POST", "/sessions/s1/validation", {}), ("POST", "/sessions/s1/validation", {"motif": "x"}),
             ("PATCH", "/jures/7", {"nom": "A"}), ("GET", "/sessions/s1", None)]
    try:
        first = keys_of({"idempotency_key": "cle-du-formulaire"}, calls)
        assert first == keys_of({"idempotency_key": "cle-du-formulaire"}, calls)  # the same form again
        assert all(k and k.startswith("cle-du-formulaire.") for k in first[:3]) and len(set(first[:3])) == 3
        assert first[3] is None  # a GET changes nothing
        assert keys_of({"idempotency_key": "autre-formulaire"}, calls[:1]) != first[:1]
        assert keys_of({}, calls[:1]) == [None]  # a form without key (an older page): no key
        with app.test_request_context("/agent/titres", method="POST", data={"idempotency_key": "import"}):
            dry, real = (security.idempotency_header("POST", "sessions", "/titres/import", b"csv", params)
                         for params in ({"dry_run": "1"}, None))  # a dry run, then the import: two calls
            assert dry != real and dry["Idempotency-Key"].startswith("import.")
    finally:
        server.shutdown()
