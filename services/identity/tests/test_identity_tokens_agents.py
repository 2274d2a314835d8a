"""Agents (I4) created by an administrator with a profile and a scope; tokens: claims, signature, expiry,
audience, key rotation; machine-to-machine credentials; demo data."""
from __future__ import annotations

import threading
import time

import jwt
import pytest

from ceres_identity.demo import DEMO_ACCOUNTS, DEMO_CLIENT, DEMO_PASSWORD, seed
from ceres_identity.testing import bearer
from ceres_shared.keyring import KeyRing


@pytest.fixture(scope="module")
def admin(portal, issuer):
    return bearer(issuer.issue("admin-1", "admin", name="Alice ADMIN"))


def agent_body(**changes):
    body = {"email": "ud.ain@travail.gouv.fr", "civilite": "M", "nom": "Bresse", "prenom": "Paul",
            "profile": "ud", "departements": ["01"]}
    body.update(changes)
    return body


def test_I4_scope_must_fit_the_profile(portal, admin):
    cases = [({"profile": "ud", "departements": []}, "departements"),
             ({"profile": "ud", "departements": ["99"]}, "departements"),
             ({"profile": "dreets", "departements": [], "regions": ["04"]}, "regions"),
             ({"profile": "deets", "departements": [], "regions": ["84"]}, "regions"),
             ({"profile": "dreets", "departements": [], "regions": ["84", "11"]}, "regions"),
             ({"profile": "dgefp", "departements": ["01"]}, "profile")]
    for changes, field in cases:
        response = portal.client.post("/agents", json=agent_body(**changes), headers=admin)
        assert response.status_code == 422 and field in response.json["errors"], (changes, response.json)
    ud = bearer(portal.runtime.identity.keyring.issue("u", "ud", scope={"departements": ["01"]}))
    assert portal.client.post("/agents", json=agent_body(), headers=ud).status_code == 403


def test_I4_admin_creates_an_agent_who_sets_a_password_and_gets_a_scoped_token(portal, admin):
    created = portal.client.post("/agents", json=agent_body(departements=["01", "69"]), headers=admin)
    assert created.status_code == 201 and created.json["status"] == "pending"
    assert portal.client.post("/agents", json=agent_body(), headers=admin).status_code == 409
    token, _ = portal.follow(portal.link_in(portal.last_mail("ud.ain@travail.gouv.fr")))
    password = "Agent-UD-2024-sur"
    assert portal.client.post("/auth/password-reset/confirm", json={
        "token": token, "password": password, "password_confirmation": password}).status_code == 200
    pair = portal.tokens("ud.ain@travail.gouv.fr", password)
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert claims["role"] == "ud" and claims["scope"] == {"departements": ["01", "69"]}
    assert claims["iss"] == "ceres-identity" and claims["aud"] == "ceres" and claims["exp"] - claims["iat"] == 900
    assert claims["name"] == "Paul Bresse"
    changed = portal.client.patch(f"/agents/{created.json['id']}", json={"departements": ["69"]}, headers=admin)
    assert changed.status_code == 200 and changed.json["departements"] == ["69"]
    # The old refresh token would carry the old scope: it is revoked.
    assert portal.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    again = portal.tokens("ud.ain@travail.gouv.fr", password)
    assert jwt.decode(again["access_token"], options={"verify_signature": False})["scope"] == {"departements": ["69"]}
    disabled = portal.client.patch(f"/agents/{created.json['id']}", json={"status": "disabled"}, headers=admin)
    assert disabled.json["status"] == "disabled"
    shown = portal.client.get(f"/agents/{created.json['id']}", headers=admin)
    assert shown.status_code == 200 and shown.json["status"] == "disabled" and shown.json["departements"] == ["69"]
    assert portal.client.get("/agents/nobody", headers=admin).status_code == 404
    ud = bearer(portal.runtime.identity.keyring.issue("u", "ud", scope={"departements": ["69"]}))
    assert portal.client.get(f"/agents/{created.json['id']}", headers=ud).status_code == 403
    assert portal.login("ud.ain@travail.gouv.fr", password).status_code == 403


def test_tokens_with_wrong_signature_expired_or_for_another_audience_are_refused(portal, issuer, tmp_path):
    def me(token):
        return portal.client.get("/me", headers=bearer(token))

    forged = KeyRing(tmp_path / "forger").issue("admin-1", "admin")
    assert me(forged).status_code == 401
    assert me(issuer.issue("admin-1", "admin", ttl=-60)).json["type"] == "about:blank#token_expired"
    assert me(issuer.issue("admin-1", "admin", audience="other")).status_code == 401
    header, payload, signature = issuer.issue("admin-1", "admin").split(".")
    tampered_payload = jwt.utils.base64url_encode(b'{"sub":"admin-1","role":"admin","aud":"ceres"}').decode()
    assert me(f"{header}.{tampered_payload}.{signature}").status_code == 401


def test_M4_tokens_signed_rs256_es256_hs256_or_unsigned_with_a_real_kid_get_a_french_401(portal, issuer):
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    now = int(time.time())
    claims = {"iss": "ceres-identity", "aud": "ceres", "sub": "admin-1", "role": "admin", "iat": now,
              "exp": now + 300}
    kid = {"kid": issuer.current_kid}
    for alg, key in (("RS256", rsa.generate_private_key(65537, 2048)),
                     ("ES256", ec.generate_private_key(ec.SECP256R1())), ("HS256", "s" * 64), ("none", None)):
        answer = portal.client.get("/me", headers=bearer(jwt.encode(claims, key, algorithm=alg, headers=kid)))
        assert answer.status_code == 401 and answer.mimetype == "application/problem+json", alg
        assert answer.json["detail"] == "Jeton invalide." and answer.json["type"] == "about:blank#invalid_token"


def test_key_rotation_keeps_older_tokens_valid_and_publishes_the_new_key(portal, admin, tmp_path):
    """L4 too: however many rotations in a row, a key stays published while tokens it signed are valid."""
    from ceres_identity.app import create_app
    from ceres_identity.context import configure

    runtime = portal.runtime
    saved = runtime.identity
    # Each new key signs at once here (no pre-publication: see the next test).
    configure(runtime, saved.config, keyring=KeyRing(tmp_path / "ring", activation_delay=0))
    try:
        client = create_app(runtime).test_client()
        seed(runtime)
        old = client.post("/auth/login", json={"email": "admin@ceres.demo", "password": DEMO_PASSWORD}).json
        rotated = client.post("/keys/rotate", headers=bearer(old["access_token"]))
        assert rotated.status_code == 201
        kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]]
        assert rotated.json["kid"] == kids[-1] and len(kids) == 2
        new = client.post("/auth/refresh", json={"refresh_token": old["refresh_token"]}).json
        assert jwt.get_unverified_header(new["access_token"])["kid"] == rotated.json["kid"]
        for token in (old["access_token"], new["access_token"]):
            assert client.get("/me", headers=bearer(token)).status_code == 200
        for _ in range(3):
            assert client.post("/keys/rotate", headers=bearer(old["access_token"])).status_code == 201
        kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]]
        assert jwt.get_unverified_header(old["access_token"])["kid"] in kids and len(kids) == 5
        assert client.get("/me", headers=bearer(old["access_token"])).status_code == 200
    finally:
        runtime.identity = saved


def test_M4_after_a_rotation_a_service_whose_refetch_an_attacker_just_used_accepts_identitys_tokens(portal, tmp_path):
    """Pre-publication: a rotated-in key is in the JWKS at once but signs only after the services' refresh horizon
    (periods shortened here: services reread every 0.3 s, refetch unknown kids once per 0.3 s; the key signs after
    1 s). Through real HTTP, a service verifies every token identity gives, however an attacker spends its
    refetches on unknown kids."""
    from werkzeug.serving import make_server

    from ceres_identity.app import create_app
    from ceres_identity.context import configure
    from ceres_shared.auth import KeySet, verify
    from ceres_shared.errors import ApiError

    runtime = portal.runtime
    saved = runtime.identity
    configure(runtime, saved.config, keyring=KeyRing(tmp_path / "ring", activation_delay=1.0))
    server = make_server("127.0.0.1", 0, create_app(runtime), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    forged = KeyRing(tmp_path / "forger")
    garbage = forged.issue("admin-1", "admin")
    try:
        client = create_app(runtime).test_client()
        seed(runtime)
        service = KeySet(url=f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json", refresh_interval=0.3,
                         min_refetch=0.3)

        def attack():  # an unknown kid: the service's refetch for the next 0.3 s is used
            with pytest.raises(ApiError) as refused:
                verify(garbage, service, "ceres")
            assert refused.value.status == 401

        old = client.post("/auth/login", json={"email": "admin@ceres.demo", "password": DEMO_PASSWORD}).json
        old_kid = jwt.get_unverified_header(old["access_token"])["kid"]
        attack()
        rotated = client.post("/keys/rotate", headers=bearer(old["access_token"]))
        assert rotated.status_code == 201 and rotated.json["kid"] != old_kid
        kids = [k["kid"] for k in client.get("/.well-known/jwks.json").json["keys"]]
        assert kids == [old_kid, rotated.json["kid"]]  # published at once
        pair = client.post("/auth/refresh", json={"refresh_token": old["refresh_token"]}).json
        assert jwt.get_unverified_header(pair["access_token"])["kid"] == old_kid  # not signing yet
        assert verify(pair["access_token"], service, "ceres").role == "admin"  # 401 if identity signed with the new key
        deadline = time.monotonic() + 1.2
        while time.monotonic() < deadline:  # the service goes on verifying; its periodic reread meets the new key
            assert verify(pair["access_token"], service, "ceres").role == "admin"
            time.sleep(0.05)
        attack()
        pair = client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).json
        assert jwt.get_unverified_header(pair["access_token"])["kid"] == rotated.json["kid"]
        assert verify(pair["access_token"], service, "ceres").role == "admin"
    finally:
        server.shutdown()
        runtime.identity = saved


def test_demo_accounts_log_in_and_the_seed_is_idempotent(portal):
    import jwt as pyjwt

    seed(portal.runtime)
    seed(portal.runtime)
    for email, profile, *_ in DEMO_ACCOUNTS:
        pair = portal.tokens(email, DEMO_PASSWORD)
        assert pyjwt.decode(pair["access_token"], options={"verify_signature": False})["role"] == profile
    listed = portal.client.get("/agents", headers=bearer(portal.tokens("admin@ceres.demo", DEMO_PASSWORD)
                                                         ["access_token"])).json
    assert sum(1 for a in listed if a["email"].endswith("@ceres.demo")) == len(DEMO_ACCOUNTS)


def test_machine_to_machine_credentials(portal, admin):
    created = portal.client.post("/clients", json={"name": "Traitement nocturne", "role": "service"}, headers=admin)
    assert created.status_code == 201
    client_id, secret = created.json["client_id"], created.json["client_secret"]
    token = portal.client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                                    "client_secret": secret})
    assert token.status_code == 200 and token.json["role"] == "service"
    claims = jwt.decode(token.json["access_token"], options={"verify_signature": False})
    assert claims["sub"] == f"client:{client_id}" and claims["role"] == "service"
    wrong = portal.client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                                    "client_secret": secret + "x"})
    assert wrong.status_code == 401
    assert "client_secret" not in portal.client.get("/clients", headers=admin).json[0]
    portal.client.delete(f"/clients/{client_id}", headers=admin)
    assert portal.client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": client_id,
                                                   "client_secret": secret}).status_code == 401
    seed(portal.runtime)
    afpa = portal.client.post("/auth/token", json={"grant_type": "client_credentials", "client_id": DEMO_CLIENT[0],
                                                   "client_secret": DEMO_CLIENT[1]})
    assert afpa.json["role"] == "afpa"


def test_dev_tokens_exist_only_in_embedded_mode(portal):
    assert portal.runtime.settings.embedded is False
    assert portal.client.post("/dev/tokens", json={"subject": "x", "role": "admin"}).status_code == 404


def test_weak_argon2_parameters_are_refused_outside_tests(monkeypatch):
    from ceres_identity.config import IdentityConfig
    from ceres_shared.config import ConfigError

    monkeypatch.setenv("CERES_TESTING", "0")
    with pytest.raises(ConfigError):
        IdentityConfig(public_url="x", argon2_memory_kib=1024).check_hashing()
    IdentityConfig(public_url="x").check_hashing()


def test_L9_an_empty_patch_of_an_agent_is_refused(portal, admin):
    created = portal.client.post("/agents", json=agent_body(email="ud.vide@travail.gouv.fr"), headers=admin)
    assert created.status_code == 201
    empty = portal.client.patch(f"/agents/{created.json['id']}", json={}, headers=admin)
    assert empty.status_code == 422 and empty.json["detail"] == "Aucune modification demandée."
    assert empty.content_type == "application/problem+json"
    assert portal.client.get(f"/agents/{created.json['id']}", headers=admin).json == created.json
