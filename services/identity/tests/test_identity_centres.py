"""Activation codes (E3, I2) shown, regenerated and printed only for competent agents (I4); attaching a centre
with SIRET + code (I2): the first user becomes gestionnaire; wrong codes are counted, then blocked."""
from __future__ import annotations

import io
import logging

import pdfplumber
import pytest
from sqlalchemy import select

from ceres_identity.domain import codes
from ceres_identity.models import ActivationCode, Centre
from ceres_identity.testing import bearer, register_centre

SIRET_AIN = "35600000000048"  # La Poste's SIRET shape is irrelevant here: identity trusts establishments (E1)
SIRET_REUNION = "44306184100047"


@pytest.fixture(scope="module", autouse=True)
def centres(portal):
    register_centre(portal.runtime, SIRET_AIN, commune_code="01053")
    register_centre(portal.runtime, SIRET_REUNION, commune_code="97411", raison_sociale="CFA DE LA REUNION")


def agent(issuer, role, **scope):
    return bearer(issuer.issue(f"{role}-agent", role, scope=scope, name=f"Agent {role.upper()}"))


def test_E3_a_registered_centre_gets_a_sealed_easy_to_type_code(portal, caplog):
    caplog.set_level(logging.DEBUG)
    new_siret = "73282932000074"
    register_centre(portal.runtime, new_siret, commune_code="01053")
    with portal.runtime.session_factory() as session:
        centre = session.get(Centre, SIRET_REUNION)
        assert (centre.departement, centre.region) == ("974", "04")
        sealed = session.get(ActivationCode, new_siret).sealed
        code = portal.runtime.identity.codes.open(sealed, new_siret)
    assert len(code) == codes.LENGTH and set(code) <= set(codes.ALPHABET)
    assert not set(code) & set("0O1IL")
    assert code.encode() not in sealed  # encrypted at rest
    assert code not in caplog.text and codes.display(code) not in caplog.text
    register_centre(portal.runtime, new_siret, commune_code="69123", event="centre.updated")
    with portal.runtime.session_factory() as session:  # an update keeps the code, moves the centre
        assert portal.runtime.identity.codes.open(session.get(ActivationCode, new_siret).sealed, new_siret) == code
        assert session.get(Centre, new_siret).departement == "69"


def test_I4_only_competent_agents_see_the_code_and_the_reading_is_traced(portal, issuer):
    url = f"/centres/{SIRET_AIN}/activation-code"
    for headers in (agent(issuer, "ud", departements=["01"]), agent(issuer, "dreets", regions=["84"]),
                    agent(issuer, "dgefp")):
        shown = portal.client.get(url, headers=headers)
        assert shown.status_code == 200 and len(shown.json["code"]) == 14  # XXXX-XXXX-XXXX
    for headers in (agent(issuer, "ud", departements=["69"]), agent(issuer, "deets", regions=["04"])):
        assert portal.client.get(url, headers=headers).status_code == 403
    centre_user = bearer(issuer.issue("u", "gestionnaire", scope={"sirets": [SIRET_AIN]}))
    assert portal.client.get(url, headers=centre_user).status_code == 403
    assert portal.client.get("/centres/12345678900011/activation-code",
                             headers=agent(issuer, "dgefp")).status_code == 404
    reunion = portal.client.get(f"/centres/{SIRET_REUNION}/activation-code",
                                headers=agent(issuer, "deets", regions=["04"]))
    assert reunion.status_code == 200
    with portal.runtime.session_factory() as session:
        actions = [h["action"] for h in portal.runtime.audit.history(session, "centre", SIRET_AIN)]
    assert actions.count("activation_code.read") == 3
    assert all(codes.normalize(reunion.json["code"]) not in str(h) for h in actions)


def test_activation_letter_pdf_has_the_seed_003_wording(portal, issuer):
    headers = agent(issuer, "ud", departements=["01"])
    code = portal.client.get(f"/centres/{SIRET_AIN}/activation-code", headers=headers).json["code"]
    response = portal.client.get(f"/centres/{SIRET_AIN}/activation-letter", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    with pdfplumber.open(io.BytesIO(response.data)) as pdf:
        text = " ".join((page.extract_text() or "") for page in pdf.pages).replace("\n", " ")
    assert "Objet : Modalités d’accès à l’applicatif CERES" in text
    assert "Vous avez un agrément pour organiser des sessions d’examen" in text
    assert f"SIRET : {SIRET_AIN}" in text and f"Code d’activation : {code}" in text
    assert "CFA DE L'AIN" in text and "01 46 29 25 54" in text
    assert portal.client.get(f"/centres/{SIRET_AIN}/activation-letter",
                             headers=agent(issuer, "ud", departements=["69"])).status_code == 403


def test_I2_brute_force_on_activation_codes_is_blocked(portal, issuer):
    portal.register_and_activate("brute@example.fr")
    headers = bearer(portal.tokens("brute@example.fr")["access_token"])
    code = portal.client.get(f"/centres/{SIRET_REUNION}/activation-code", headers=agent(issuer, "dgefp")).json["code"]
    remaining = []
    for _ in range(5):
        wrong = portal.client.post("/me/centres", json={"siret": SIRET_REUNION, "code": "AAAA-BBBB-CCCC"},
                                   headers=headers)
        assert wrong.status_code == 422 and wrong.json["errors"]["code"]
        remaining.append(wrong.json["remaining_attempts"])
    assert remaining == [4, 3, 2, 1, 0]
    blocked = portal.client.post("/me/centres", json={"siret": SIRET_REUNION, "code": code}, headers=headers)
    assert blocked.status_code == 429  # even the right code, until the block ends
    assert blocked.headers["Retry-After"] == str(portal.runtime.identity.config.attach_block)  # L6
    unknown = portal.client.post("/me/centres", json={"siret": "12345678900011", "code": code}, headers=headers)
    assert unknown.status_code == 429


def test_I2_attach_with_siret_and_code_first_user_becomes_gestionnaire(portal, issuer):
    dgefp = agent(issuer, "dgefp")
    code = portal.client.post(f"/centres/{SIRET_AIN}/activation-code", headers=dgefp).json["code"]  # regenerate
    portal.register_and_activate("first@example.fr")
    pair = portal.tokens("first@example.fr")
    headers = bearer(pair["access_token"])
    typed = code.lower().replace("-", " ")  # case, spaces and dashes do not matter
    attached = portal.client.post("/me/centres", json={"siret": SIRET_AIN, "code": typed}, headers=headers)
    assert attached.status_code == 201, attached.json
    assert attached.json == {"siret": SIRET_AIN, "raison_sociale": "CFA DE L'AIN", "role": "gestionnaire"}
    refreshed = portal.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).json
    assert refreshed["role"] == "gestionnaire"
    me = portal.client.get("/me", headers=bearer(refreshed["access_token"])).json
    assert me["scope"] == {"sirets": [SIRET_AIN]} and me["memberships"][0]["role"] == "gestionnaire"
    again = portal.client.post("/me/centres", json={"siret": SIRET_AIN, "code": code},
                               headers=bearer(refreshed["access_token"]))
    assert again.status_code == 409
    portal.register_and_activate("second@example.fr")
    used = portal.client.post("/me/centres", json={"siret": SIRET_AIN, "code": code},
                              headers=bearer(portal.tokens("second@example.fr")["access_token"]))
    assert used.status_code == 409 and used.json["type"] == "about:blank#code_used"
    with portal.runtime.session_factory() as session:
        events = session.execute(select(portal.runtime.tables.outbox.c.event_type,
                                        portal.runtime.tables.outbox.c.body)).all()
    attached_events = [body for kind, body in events if kind == "member.attached"]
    assert len(attached_events) == 1 and '"role":"gestionnaire"' in attached_events[0]


def test_agents_cannot_attach_and_unauthenticated_calls_are_refused(portal, issuer):
    assert portal.client.post("/me/centres", json={"siret": SIRET_AIN, "code": "x"}).status_code == 401
    ud = agent(issuer, "ud", departements=["01"])
    assert portal.client.post("/me/centres", json={"siret": SIRET_AIN, "code": "x"}, headers=ud).status_code == 403
    bad = portal.client.post("/me/centres", json={"siret": "123", "code": ""},
                             headers=bearer(issuer.issue("x", "centre")))
    assert bad.status_code == 422 and bad.json["errors"]["siret"] == ["Le SIRET comporte 14 chiffres."]


def test_M8_wrong_codes_from_throwaway_accounts_do_not_block_the_centres_legitimate_attach(portal, issuer):
    siret = "40483304800022"
    register_centre(portal.runtime, siret, commune_code="01053", raison_sociale="CFA DU BUGEY")
    code = portal.client.get(f"/centres/{siret}/activation-code", headers=agent(issuer, "dgefp")).json["code"]
    attacker = {"REMOTE_ADDR": "203.0.113.10"}

    def attach(email: str, typed: str, environ: dict | None = None):
        headers = bearer(portal.tokens(email)["access_token"])
        return portal.client.post("/me/centres", json={"siret": siret, "code": typed}, headers=headers,
                                  environ_base=environ or {})

    for n in range(5):
        portal.register_and_activate(f"jetable{n}@example.fr")
    for n in range(4):  # 20 wrong codes, 5 per throwaway account
        for _ in range(5):
            assert attach(f"jetable{n}@example.fr", "AAAA-BBBB-CCCC", attacker).status_code == 422
    # The attacker's address is slowed down, whatever account it uses: the wait is told.
    slowed = attach("jetable4@example.fr", code, attacker)
    assert slowed.status_code == 429 and int(slowed.headers["Retry-After"]) > 0
    assert slowed.json["detail"].startswith("Trop de tentatives. Veuillez réessayer dans ")
    # The centre's own user attaches at once.
    portal.register_and_activate("vrai.gestionnaire@example.fr")
    attached = attach("vrai.gestionnaire@example.fr", code)
    assert attached.status_code == 201 and attached.json["role"] == "gestionnaire"
