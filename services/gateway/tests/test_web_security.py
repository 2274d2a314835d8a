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


def test_production_refuses_the_development_secret(monkeypatch):
    monkeypatch.delenv("CERES_SECRET_KEY", raising=False)
    monkeypatch.setenv("AMQP_URL", "amqp://broker")
    monkeypatch.setenv("CERES_TESTING", "0")
    with pytest.raises(security.ConfigError):
        security.secret_key()
    monkeypatch.setenv("CERES_SECRET_KEY", "s3cret")
    assert security.secret_key() == "s3cret"


@pytest.mark.parametrize("service_status, page_status", [(400, 400), (403, 403), (404, 404), (409, 409), (413, 413),
                                                         (422, 422), (401, 422), (429, 422), (500, 503), (502, 503)])
def test_a_service_refusal_keeps_its_status_on_the_page_and_a_failure_is_503(service_status, page_status):
    """One mapping for every page (agents' and centres'): a refusal the user can read keeps the service's status."""
    from ceres_gateway.web.blueprint import refusal_status
    from ceres_gateway.web.client import ServiceError

    assert refusal_status(ServiceError(service_status, "x")) == page_status
