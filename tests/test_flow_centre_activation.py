"""Architecture flow 1 (seed 003), every part real: establishments registers a centre (its outbox, its relay,
RabbitMQ) → identity's consumer makes the activation code → a competent agent reads it → a person signs up,
activates by the link mailed over SMTP, logs in, attaches CERES with SIRET + code and becomes gestionnaire (I2)
→ invites a colleague who accepts (I3) → the tokens work on another service, which fetches identity's JWKS over
HTTP, and fail outside their scope (I4)."""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace

import pytest
from werkzeug.serving import make_server

from ceres_identity.app import create_app as identity_app
from ceres_identity.context import configure
from ceres_identity.demo import DEMO_PASSWORD, seed
from ceres_identity.models import ActivationCode, Centre
from ceres_identity.testing import Portal, bearer, config_for_tests, start_smtp
from ceres_shared.keyring import KeyRing

SIRET = "35600000000048"
COMMUNE_LYON = "69123"


@pytest.fixture
def smtp():
    inbox, controller = start_smtp()
    yield inbox
    controller.stop()


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_seed_003_centre_registered_to_gestionnaire_and_invited_colleague(make_runtime, issuer, smtp, tmp_path):
    exchange = f"flow1-{uuid.uuid4().hex[:8]}.events"
    identity = make_runtime("identity", exchange=exchange)
    configure(identity, config_for_tests(smtp.url), keyring=issuer)
    identity.start_background()  # relay, consumer, mail sender, purger
    est = make_runtime("establishments", exchange=exchange)
    with est.session_factory.begin() as session:
        est.outbox.record(session, "centre.registered", {
            "centre_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"ceres:centre:{SIRET}")), "siret": SIRET,
            "siren": SIRET[:9], "raison_sociale": "GRETA LYON METROPOLE", "adresse": "20 rue de la République",
            "code_postal": "69002", "commune_code": COMMUNE_LYON, "commune_label": "Lyon", "type_centre": "GRETA"})
    est.start_background()

    def code_made():
        with identity.session_factory() as session:
            return session.get(ActivationCode, SIRET) is not None and session.get(Centre, SIRET)

    centre = wait_for(code_made)
    assert (centre.departement, centre.region) == ("69", "84")

    app = identity_app(identity)
    id_server = serve(app)
    portal = Portal(identity, app.test_client(), smtp, deliver_inline=False)
    seed(identity)
    dreets = portal.tokens("dreets84@ceres.demo", DEMO_PASSWORD)
    code = portal.client.get(f"/centres/{SIRET}/activation-code", headers=bearer(dreets["access_token"])).json["code"]
    ud01 = portal.tokens("ud01@ceres.demo", DEMO_PASSWORD)
    assert portal.client.get(f"/centres/{SIRET}/activation-code",
                             headers=bearer(ud01["access_token"])).status_code == 403  # Lyon is not in the Ain

    # I1: sign-up, activation by the mailed link (sent by the mail worker over SMTP), log-in.
    portal.register_and_activate("responsable@greta-lyon.fr", nom="Dupont", prenom="Guy")
    pair = portal.tokens("responsable@greta-lyon.fr")
    # I2: attach with SIRET + code: the first user becomes gestionnaire.
    attached = portal.client.post("/me/centres", json={"siret": SIRET, "code": code},
                                  headers=bearer(pair["access_token"]))
    assert attached.status_code == 201 and attached.json["role"] == "gestionnaire"
    manager = portal.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).json
    assert manager["role"] == "gestionnaire"

    # I3: the gestionnaire invites a colleague found by name; the colleague accepts once logged in.
    portal.register_and_activate("adjointe@greta-lyon.fr", nom="Martin", prenom="Hélène")
    hit = portal.client.get("/accounts/search?q=martin", headers=bearer(manager["access_token"])).json[0]
    invited = portal.client.post("/invitations", json={"siret": SIRET, "role": "centre", "account_id": hit["id"]},
                                 headers=bearer(manager["access_token"]))
    assert invited.status_code == 201
    invitation = portal.last_mail("adjointe@greta-lyon.fr", "Invitation à rejoindre la démarche CERES")
    token, _ = portal.follow(portal.link_in(invitation))
    colleague = portal.tokens("adjointe@greta-lyon.fr")
    assert portal.client.post("/invitations/accept", json={"token": token},
                              headers=bearer(colleague["access_token"])).status_code == 200
    colleague = portal.client.post("/auth/refresh", json={"refresh_token": colleague["refresh_token"]}).json
    me = portal.client.get("/me", headers=bearer(colleague["access_token"])).json
    assert me["role"] == "centre" and me["scope"] == {"sirets": [SIRET]}

    # The tokens work on another service, which knows identity only by its JWKS URL.
    from ceres_establishments.app import create_app as establishments_app

    est.settings = replace(est.settings, jwks_url=f"http://127.0.0.1:{id_server.server_port}/.well-known/jwks.json")
    est.jwks = None
    other = establishments_app(est).test_client()
    history = f"/history/centre/{centre.centre_id}"
    dgefp = portal.tokens("dgefp@ceres.demo", DEMO_PASSWORD)
    assert other.get(history, headers=bearer(dgefp["access_token"])).status_code == 200
    # A régional agent's token is valid there too, but this record (not in establishments' database) is not
    # within its scope: the trail is not shown.
    assert other.get(history, headers=bearer(dreets["access_token"])).status_code == 404
    # Verified (not 401) but outside what a centre's role may do there.
    assert other.get(history, headers=bearer(manager["access_token"])).status_code == 403
    forged = KeyRing(tmp_path / "forger").issue("x", "dgefp")
    assert other.get(history, headers=bearer(forged)).status_code == 401
    # Outside its scope: another company's centre.
    assert portal.client.get("/centres/44306184100013/members",
                             headers=bearer(manager["access_token"])).status_code == 403
    id_server.shutdown()
