"""Invitations (I3): search by name without leaking addresses, a role and a SIRET of the same company only,
an invitation mail accepted once logged in, expiry, revocation, members listed and removed."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ceres_identity.models import Invitation
from ceres_identity.testing import bearer, now, register_centre

HEAD_OFFICE = "44306184100013"  # SIREN 443061841
BRANCH = "44306184100021"  # same company
OTHER_COMPANY = "55208131766522"


@pytest.fixture(scope="module")
def manager(portal, issuer):
    """A gestionnaire of HEAD_OFFICE (attached with the centre's code, I2) and a colleague with an account."""
    for siret in (HEAD_OFFICE, BRANCH, OTHER_COMPANY):
        register_centre(portal.runtime, siret, raison_sociale=f"CENTRE {siret}")
    code = portal.client.get(f"/centres/{HEAD_OFFICE}/activation-code",
                             headers=bearer(issuer.issue("a", "dgefp"))).json["code"]
    portal.register_and_activate("guy.dupont@example.fr", nom="Dupont", prenom="Guy")
    pair = portal.tokens("guy.dupont@example.fr")
    assert portal.client.post("/me/centres", json={"siret": HEAD_OFFICE, "code": code},
                              headers=bearer(pair["access_token"])).status_code == 201
    pair = portal.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).json
    portal.register_and_activate("helene.martin@example.fr", nom="Martin", prenom="Hélène")
    return bearer(pair["access_token"])


def test_I3_search_by_name_needs_three_characters_and_masks_emails(portal, manager):
    short = portal.client.get("/accounts/search?q=ma", headers=manager)
    assert short.status_code == 422 and short.json["errors"]["q"] == ["Saisissez au moins 3 caractères."]
    hits = portal.client.get("/accounts/search?q=MARTIN hel", headers=manager).json
    assert [(h["nom"], h["prenom"]) for h in hits] == [("Martin", "Hélène")]
    assert hits[0]["email"] == "h•••@e•••.fr"
    # Addresses cannot be probed through the search.
    assert portal.client.get("/accounts/search?q=helene.martin@example.fr", headers=manager).json == []
    colleague = bearer(portal.tokens("helene.martin@example.fr")["access_token"])
    assert portal.client.get("/accounts/search?q=dupont", headers=colleague).status_code == 403


def test_I3_invitation_outside_the_company_or_with_an_unknown_role_is_refused(portal, manager):
    hit = portal.client.get("/accounts/search?q=martin", headers=manager).json[0]
    other = portal.client.post("/invitations", json={"siret": OTHER_COMPANY, "role": "centre",
                                                     "account_id": hit["id"]}, headers=manager)
    assert other.status_code == 403
    role = portal.client.post("/invitations", json={"siret": BRANCH, "role": "admin", "account_id": hit["id"]},
                              headers=manager)
    assert role.status_code == 422 and "role" in role.json["errors"]
    unregistered = portal.client.post("/invitations", json={"siret": "44306184100039", "role": "centre",
                                                            "account_id": hit["id"]}, headers=manager)
    assert unregistered.status_code == 422 and unregistered.json["errors"]["siret"]
    neither = portal.client.post("/invitations", json={"siret": BRANCH, "role": "centre"}, headers=manager)
    assert neither.status_code == 422


def test_I3_invite_by_name_then_the_invitee_accepts_once_logged_in(portal, manager):
    hit = portal.client.get("/accounts/search?q=martin", headers=manager).json[0]
    created = portal.client.post("/invitations", json={"siret": BRANCH, "role": "centre", "account_id": hit["id"]},
                                 headers=manager)
    assert created.status_code == 201 and created.json["status"] == "pending"
    mail = portal.last_mail("helene.martin@example.fr")
    assert mail["Subject"] == "Invitation à rejoindre la démarche CERES"
    assert "Guy Dupont vous invite à accéder au service CERES avec le rôle « Centre agréé »" in mail.get_content()
    token, _ = portal.follow(portal.link_in(mail))
    assert portal.client.post("/invitations/accept", json={"token": token}).status_code == 401
    intruder = portal.client.post("/invitations/accept", json={"token": token}, headers=manager)
    assert intruder.status_code == 403  # a forwarded link is no use to somebody else
    invitee = portal.tokens("helene.martin@example.fr")
    accepted = portal.client.post("/invitations/accept", json={"token": token},
                                  headers=bearer(invitee["access_token"]))
    assert accepted.status_code == 200 and accepted.json == {"siret": BRANCH, "role": "centre"}
    assert portal.client.post("/invitations/accept", json={"token": token},
                              headers=bearer(invitee["access_token"])).status_code == 409
    refreshed = portal.client.post("/auth/refresh", json={"refresh_token": invitee["refresh_token"]}).json
    assert refreshed["role"] == "centre"
    members = portal.client.get(f"/centres/{BRANCH}/members", headers=manager).json
    assert [(m["nom"], m["role"]) for m in members] == [("Martin", "centre")]


def test_I3_invite_by_email_no_enumeration_expiry_and_revocation(portal, manager):
    unknown = portal.client.post("/invitations", json={"siret": BRANCH, "role": "gestionnaire",
                                                       "email": "new.person@example.fr"}, headers=manager)
    known = portal.client.post("/invitations", json={"siret": BRANCH, "role": "gestionnaire",
                                                     "email": "helene.martin@example.fr"}, headers=manager)
    assert unknown.status_code == known.status_code == 201
    assert set(unknown.json) == set(known.json)
    revoked = portal.client.delete(f"/invitations/{unknown.json['id']}", headers=manager)
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert portal.client.delete(f"/invitations/{unknown.json['id']}", headers=manager).status_code == 409
    token, _ = portal.follow(portal.link_in(portal.last_mail("helene.martin@example.fr")))
    with portal.runtime.session_factory.begin() as session:
        session.execute(update(Invitation).where(Invitation.id == known.json["id"])
                        .values(expires_at=now() - timedelta(seconds=1)))
    invitee = bearer(portal.tokens("helene.martin@example.fr")["access_token"])
    expired = portal.client.post("/invitations/accept", json={"token": token}, headers=invitee)
    assert expired.status_code == 410
    listed = {i["id"]: i["status"] for i in portal.client.get(f"/centres/{BRANCH}/invitations",
                                                               headers=manager).json}
    assert listed[known.json["id"]] == "expired" and listed[unknown.json["id"]] == "revoked"


def test_I3_members_removed_but_never_the_last_gestionnaire(portal, manager):
    me = portal.client.get("/me", headers=manager).json
    last = portal.client.delete(f"/centres/{HEAD_OFFICE}/members/{me['id']}", headers=manager)
    assert last.status_code == 409 and last.json["type"] == "about:blank#last_gestionnaire"
    colleague = portal.client.get(f"/centres/{BRANCH}/members", headers=manager).json[0]
    assert portal.client.delete(f"/centres/{BRANCH}/members/{colleague['account_id']}",
                                headers=manager).status_code == 204
    assert portal.client.get(f"/centres/{BRANCH}/members", headers=manager).json == []
    with portal.runtime.session_factory() as session:
        outbox = portal.runtime.tables.outbox
        kinds = session.scalars(select(outbox.c.event_type)).all()
    assert {"member.attached", "member.invited", "member.removed"} <= set(kinds)


def test_I4_agents_see_members_only_within_their_scope(portal, manager, issuer):
    ud01 = bearer(issuer.issue("ud", "ud", scope={"departements": ["01"]}))
    ud69 = bearer(issuer.issue("ud", "ud", scope={"departements": ["69"]}))
    assert portal.client.get(f"/centres/{HEAD_OFFICE}/members", headers=ud01).status_code == 200
    assert portal.client.get(f"/centres/{HEAD_OFFICE}/members", headers=ud69).status_code == 403
