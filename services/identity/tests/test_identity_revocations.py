"""L1: log-out ends the access token too — the one given, and the account's earlier ones — listed for the services
at GET /internal/revocations while such a token may live; identity refuses them itself."""
from __future__ import annotations

import time

from ceres_identity.testing import bearer


def test_log_out_revokes_the_access_token_and_the_earlier_ones(portal):
    portal.register_and_activate("revoque@exemple.fr")
    older = portal.tokens("revoque@exemple.fr")
    time.sleep(1.05)  # the cut-off spares tokens of the log-out's own second: this one is earlier
    pair = portal.tokens("revoque@exemple.fr")
    client = portal.client
    assert client.get("/me", headers=bearer(pair["access_token"])).status_code == 200
    assert client.get("/me", headers=bearer(older["access_token"])).status_code == 200

    assert client.post("/auth/logout", json={"refresh_token": pair["refresh_token"],
                                             "access_token": pair["access_token"]}).status_code == 204
    listed = client.get("/internal/revocations").json
    subject = client.get("/me", headers=bearer(portal.tokens("revoque@exemple.fr")["access_token"])).json["id"]
    assert subject in listed["subjects"] and len(listed["tokens"]) == 1
    time.sleep(1.05)  # identity rereads its list once a second
    for token in (pair["access_token"], older["access_token"]):
        refused = client.get("/me", headers=bearer(token))
        assert refused.status_code == 401
        assert refused.json["detail"] == "Votre session a pris fin, veuillez vous reconnecter."
    assert client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    assert client.get("/me", headers=bearer(portal.tokens("revoque@exemple.fr")["access_token"])).status_code == 200


def test_a_demo_token_without_refresh_token_is_revoked_by_itself(portal, issuer):
    token = issuer.issue("demo-ud01", "ud", scope={"departements": ["01"]})
    assert portal.client.post("/auth/logout", json={"access_token": token}).status_code == 204
    assert "demo-ud01" in portal.client.get("/internal/revocations").json["subjects"]
    forged = portal.client.post("/auth/logout", json={"access_token": "eyJhbGciOiJub25lIn0.e30.x" + "x" * 10})
    assert forged.status_code == 204  # says nothing, revokes nothing
    assert portal.client.post("/auth/logout", json={}).status_code == 204
