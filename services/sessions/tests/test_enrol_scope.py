"""H2 (I4, C1) as a property (Hypothesis) over role × SIRETs × person: a centre enrols into its session only the
people it may see — the records it created, or matched exactly with its duplicate check (candidates' grants,
`candidate.shared`). Any other number is answered exactly as a number no one holds (422 on candidate_id), with
nothing of the person; agents and other centres never enrol into this centre's session; withdrawing or marking
absent a person not enrolled tells nothing of them either.

The oracle is written from the rules: the grants delivered below, not the service's tables."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ceres_shared.auth import ALL_ROLES, CENTRE_ROLES

from .conftest import World, feed

PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
# key -> (nom, prénom, birth date, which of the two centres may enrol the person)
PEOPLE = {
    "own": ("GAUDRIOT", "Sidonie", "1982-05-19", {"ours"}),
    "matched": ("HAUTECOEUR", "Timothee", "1991-11-02", {"ours", "theirs"}),
    "theirs": ("ISNARDON", "Violaine", "1979-08-30", {"theirs"}),
    "stranger": ("JOUFFROY", "Anselme", "1986-03-11", set()),
}
UNKNOWN = 999_999_999  # no test feeds this number


@pytest.fixture
def place(rt, client, issuer, catalogue, frozen):
    """Our centre's session (en préparation), another centre, and the people with their grants."""
    ours, theirs = World(rt, client, issuer), World(rt, client, issuer)
    frozen(2024, 1, 15)
    session_id = ours.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 5))["id"]
    ids = {}
    for key, (nom, prenom, born, grants) in PEOPLE.items():
        cid = 10**9 + uuid.uuid4().int % 10**8  # a number no other test uses
        ids[key] = cid
        feed(rt, "candidate.registered", {"candidate_id": cid, "genre": "F", "nom_naissance": nom,
                                          "prenoms": [prenom], "birth_date": born, "birth_country_label": "FRANCE"})
        for side in sorted(grants):
            siret = {"ours": ours.siret, "theirs": theirs.siret}[side]
            feed(rt, "candidate.shared", {"candidate_id": cid, "siret": siret, "reason": "exact_match"})
    return {"ours": ours, "theirs": theirs, "session": session_id, "ids": ids}


@st.composite
def callers(draw):
    """(role, which centres' SIRETs) — agents get their site's territory."""
    role = draw(st.sampled_from(sorted(ALL_ROLES)))
    return role, sorted(draw(st.sets(st.sampled_from(("ours", "theirs")), max_size=2)))


def no_personal_data(key, answer) -> None:
    nom, prenom, born, _ = PEOPLE[key]
    body = answer.get_data(as_text=True)
    for secret in (nom, prenom, born):
        assert secret not in body, (answer.status_code, body)


def without_correlation(answer) -> dict:
    return {k: v for k, v in answer.json.items() if k != "correlation_id"}


@PROPERTY
@example(who=("centre", ["ours"]), key="stranger")
@example(who=("gestionnaire", ["ours"]), key="theirs")
@example(who=("centre", ["ours", "theirs"]), key="theirs")
@example(who=("centre", ["ours"]), key="matched")
@given(who=callers(), key=st.sampled_from(sorted(PEOPLE)))
def test_h2_a_centre_enrols_only_the_people_it_may_see(place, issuer, who, key):
    role, sides = who
    ours, client = place["ours"], place["ours"].client
    scope = ({"sirets": [place[s].siret for s in sides]} if role in CENTRE_ROLES
             else {"departements": [ours.dep], "regions": [ours.region]})
    headers = {"Authorization": f"Bearer {issuer.issue(f'{role}-e', role, scope=scope, ttl=600)}"}
    path = f"/sessions/{place['session']}/candidats"
    answer = client.post(path, json={"candidate_id": place["ids"][key]}, headers=headers)
    if role in CENTRE_ROLES and "ours" in sides and PEOPLE[key][3] & set(sides):
        assert answer.status_code == 201, answer.json
        withdrawn = client.delete(f"{path}/{place['ids'][key]}", headers=headers)  # the next example starts afresh
        assert withdrawn.status_code == 200, withdrawn.json
        return
    assert answer.status_code in (403, 404, 422), answer.json
    no_personal_data(key, answer)
    for other in (client.delete(f"{path}/{place['ids'][key]}", headers=headers),  # the other endpoints by id
                  client.post(f"{path}/{place['ids'][key]}/absence", headers=headers)):
        assert other.status_code in (403, 404, 409), other.json  # 409: absence only once the session is under way
        no_personal_data(key, other)
    if role in CENTRE_ROLES and "ours" in sides:  # read as an unknown number: existence is not revealed
        unknown = client.post(path, json={"candidate_id": UNKNOWN}, headers=headers)
        assert answer.status_code == 422 and without_correlation(answer) == without_correlation(unknown)
        assert answer.json["errors"] == {"candidate_id": ["Aucun candidat CERES ne porte ce numéro."]}


def test_h2_an_enrolment_refused_for_a_real_person_is_traced_an_unknown_number_is_not(place, issuer):
    from ceres_shared.testing.audit import scope_refusals

    client = place["ours"].client
    us = {"Authorization": f"Bearer {issuer.issue('centre-trace', 'centre', scope={'sirets': [place['ours'].siret]})}"}
    admin = {"Authorization": f"Bearer {issuer.issue('admin-trace', 'admin')}"}
    for cid in (place["ids"]["stranger"], UNKNOWN):
        assert client.post(f"/sessions/{place['session']}/candidats", json={"candidate_id": cid},
                           headers=us).status_code == 422
    total, rows = scope_refusals(client, admin, auteur="centre:centre-trace")
    stranger = str(place["ids"]["stranger"])
    assert total == 1 and (rows[0]["entity_type"], rows[0]["entity_id"]) == ("candidate", stranger)
