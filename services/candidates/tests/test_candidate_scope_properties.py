"""I4 as properties (Hypothesis) over role × territory × person, for every endpoint of the candidates service that
takes a candidate id (read, change, validate, reopen, merge, history, export, trail) and for the duplicate check
(C1), as a request of its own and as the 409 of a creation: a caller who may not see the person never gets the
person's names, birth date or place, in any answer, error included — except the number of a record whose whole
identity it typed (M1).

The oracle is written from the rules, not from access.py: national profiles see everyone; an agent the people living
in its territory or enrolled in a session held there; a centre the records created under its SIRETs and the people
now enrolled (not withdrawn) in its sessions."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ceres_shared.auth import AGENT_ROLES, ALL_ROLES, CENTRE_ROLES
from ceres_shared.communes import Referential

from .test_duplicates_and_path import deliver, enrol_event, session_event

SIRET_A, SIRET_B = "11111111111111", "22222222222222"
DEPARTEMENTS = ("01", "69", "75", "974")
REGIONS = ("84", "11", "04")
REGION = {"01": "84", "69": "84", "75": "11", "974": "04"}  # written here, not read from the code
# key -> (nom, prénoms, birth date, birth commune, address commune and postcode, created by (role, SIRET))
PEOPLE = {
    "ain": ("ARBOGAST", ["Ombeline", "Rose"], "1981-04-17", "01053", ("01053", "01000"), ("ud", None)),
    "lyon": ("BRUNCHER", ["Quentin", "Marc"], "1993-10-29", "69123", ("69123", "69002"), ("centre", SIRET_A)),
    "paris": ("CASTAGNE", ["Ysaline", "Eve"], "1976-12-08", "75056", ("75056", "75011"), ("admin", None)),
    "reunion": ("DORIATH", ["Gontran", "Noel"], "1988-01-23", "97411", ("97411", "97400"), ("centre", SIRET_B)),
    # lives in Lyon, enrolled in centre A's session held in Paris
    "enrolled": ("ESCOFFIER", ["Philibert", "Jean"], "1990-07-14", "69123", ("69123", "69003"), ("admin", None)),
    # lives in Paris, was enrolled in centre B's session in La Réunion, then withdrawn
    "withdrawn": ("FRAGONARD", ["Honorine", "Lise"], "1984-02-26", "75056", ("75056", "75012"), ("admin", None)),
}
SITES = {"site-paris": ("centre-a", "75", "11"), "site-reunion": ("centre-b", "974", "04")}
CENTRES = {"centre-a": SIRET_A, "centre-b": SIRET_B}
ENROLMENTS = {"enrolled": ("site-paris", True), "withdrawn": ("site-reunion", False)}
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def communes():
    return Referential.load()  # the whole country: people live in four territories


@pytest.fixture(scope="module")
def people(rt, client, issuer):
    """The people above, created over HTTP by their creator; the sessions' and centres' events delivered."""
    for centre_id, siret in CENTRES.items():
        deliver(rt, "centre.registered", {"centre_id": centre_id, "siret": siret, "siren": siret[:9],
                                          "raison_sociale": centre_id, "adresse": "1 rue de la Gare",
                                          "commune_code": None})
    for site_id, (centre_id, dep, reg) in SITES.items():
        deliver(rt, "site.created", {"site_id": site_id, "centre_id": centre_id, "name": site_id, "adresse": "rue",
                                     "code_postal": "75011", "commune_code": "75111", "commune_label": "Paris",
                                     "departement": dep, "region": reg, "zone": "metro"})
    ids = {}
    for key, (nom, prenoms, born, birth_commune, (commune, cp), (role, siret)) in PEOPLE.items():
        scope = {"sirets": [siret]} if siret else {"departements": ["01"]} if role == "ud" else {}
        headers = {"Authorization": f"Bearer {issuer.issue('creator', role, scope=scope, ttl=600)}"}
        made = client.post("/candidates", headers=headers, json={
            "genre": "F", "nom_naissance": nom, "prenoms": prenoms, "birth_date": born,
            "birth_commune_code": birth_commune,
            "address": {"lines": ["1 rue Haute"], "code_postal": cp, "commune_code": commune}})
        assert made.status_code == 201, made.json
        ids[key] = made.json["id"]
    for key, (site_id, stays) in ENROLMENTS.items():
        centre_id = SITES[site_id][0]
        deliver(rt, "session.created", session_event(f"s-{key}", [], site=site_id, centre=centre_id))
        deliver(rt, "session.enrolment_changed", enrol_event(f"s-{key}", ids[key], site=site_id, centre=centre_id))
        if not stays:  # withdrawn (its event), and the next status change no longer lists the person
            deliver(rt, "session.enrolment_changed", enrol_event(f"s-{key}", ids[key], "retire", site=site_id,
                                                                 centre=centre_id))
            deliver(rt, "session.status_changed", session_event(f"s-{key}", [], "demande_dte_envoyee",
                                                                site=site_id, centre=centre_id))
    return ids


@st.composite
def principals(draw):
    """(role, scope): any role, any mix of territories or SIRETs, sometimes national."""
    role = draw(st.sampled_from(sorted(ALL_ROLES)))
    if role in CENTRE_ROLES:
        return role, {"sirets": sorted(draw(st.sets(st.sampled_from((SIRET_A, SIRET_B)), max_size=2)))}
    scope = {"departements": sorted(draw(st.sets(st.sampled_from(DEPARTEMENTS), max_size=2))),
             "regions": sorted(draw(st.sets(st.sampled_from(REGIONS), max_size=1)))}
    if draw(st.integers(0, 6)) == 0:
        scope["national"] = True
    return role, scope


# -- the oracle -----------------------------------------------------------------------------------------------
def national(role, scope) -> bool:
    return role in ("dgefp", "admin", "service") or (role in AGENT_ROLES and bool(scope.get("national")))


def covers(role, scope, departement) -> bool:
    return departement in scope.get("departements", ()) or REGION[departement] in scope.get("regions", ())


def sees(role, scope, key) -> bool:
    _, _, _, _, (commune, _), (_, siret) = PEOPLE[key]
    if national(role, scope):
        return True
    if role in CENTRE_ROLES:
        enrolment = ENROLMENTS.get(key)
        centre_siret = CENTRES[SITES[enrolment[0]][0]] if enrolment else None
        return siret in scope["sirets"] or (enrolment is not None and enrolment[1]
                                            and centre_siret in scope["sirets"])
    if role in AGENT_ROLES:
        lives = commune[:3] if commune.startswith("97") else commune[:2]
        site = ENROLMENTS.get(key, (None,))[0]
        return covers(role, scope, lives) or (site is not None and covers(role, scope, SITES[site][1]))
    return False


def secrets(key) -> list[str]:
    nom, prenoms, born, _, _, _ = PEOPLE[key]
    return [nom, nom.title(), *prenoms, born]


def nothing_of(key, answer) -> None:
    body = answer.get_data(as_text=True)
    for secret in secrets(key):
        assert secret not in body, (answer.status_code, body)


def token(issuer, role, scope) -> dict:
    return {"Authorization": f"Bearer {issuer.issue(f'{role}-p', role, scope=scope, ttl=600)}"}


def edges(**args):
    """Explicit examples that must hold whatever Hypothesis draws (the findings' cases)."""
    def apply(test):
        for who, key in ((("ud", {"departements": ["69"], "regions": []}), "ain"),
                         (("centre", {"sirets": [SIRET_B]}), "lyon"),
                         (("centre", {"sirets": [SIRET_B]}), "withdrawn"),
                         (("dreets", {"departements": [], "regions": ["84"]}), "paris")):
            test = example(who=who, key=key, **args)(test)
        return test
    return apply


ENDPOINTS = [("GET", ""), ("PATCH", ""), ("POST", "/validation"), ("POST", "/brouillon"), ("POST", "/merge"),
             ("GET", "/history"), ("GET", "/export")]


@PROPERTY
@edges(endpoint=0)
@given(who=principals(), key=st.sampled_from(sorted(PEOPLE)), endpoint=st.integers(0, len(ENDPOINTS) - 1))
def test_i4_a_record_only_within_scope(client, issuer, people, who, key, endpoint):
    role, scope = who
    method, path = ENDPOINTS[endpoint]
    body = {"PATCH": {"phone": "01 02 03 04 05"}, "POST": {"merged_id": 999_999, "reason": "essai"}}.get(method)
    answer = client.open(f"/candidates/{people[key]}{path}", method=method, json=body,
                         headers=token(issuer, role, scope))
    if not sees(role, scope, key):
        assert answer.status_code in (403, 404), answer.get_data(as_text=True)
        nothing_of(key, answer)
    elif method == "GET" and path == "" and role != "afpa":
        assert answer.status_code == 200 and answer.json["nom_naissance"] == PEOPLE[key][0]


@PROPERTY
@edges(endpoint=0)
@given(who=principals(), key=st.sampled_from(sorted(PEOPLE)), endpoint=st.integers(0, 0))
def test_i4_the_audit_trail_of_a_record_only_within_scope(client, issuer, people, who, key, endpoint):
    role, scope = who
    answer = client.get(f"/history/candidate/{people[key]}", headers=token(issuer, role, scope))
    if not sees(role, scope, key):
        assert answer.status_code in (403, 404)
        nothing_of(key, answer)


def typed(key, variant) -> dict:
    """What a caller types in the duplicate check: the exact identity, or one of C1's near misses."""
    nom, prenoms, born, birth_commune, _, _ = PEOPLE[key]
    body = {"nom_naissance": nom.lower(), "prenoms": list(prenoms), "birth_date": born,
            "birth_country_code": "99100", "birth_commune_code": birth_commune}
    if variant == "date_typo":
        body["birth_date"] = born[:-1] + ("1" if born[-1] != "1" else "2")
    elif variant == "swapped":
        body["prenoms"] = list(reversed(prenoms))
    elif variant == "no_place":
        body.pop("birth_country_code"), body.pop("birth_commune_code")
    return body


VARIANTS = ("exact", "date_typo", "swapped", "no_place")


def check_answer(role, scope, key, variant, people, duplicates, answer) -> None:
    ours = [d for d in duplicates if d["id"] == people[key]]
    if sees(role, scope, key):
        assert [d["birth_date"] for d in ours] == [PEOPLE[key][2]]  # in full
        assert ours[0]["prenoms"] == PEOPLE[key][1]
    elif variant == "exact":  # it typed everything: the number, nothing it did not type
        assert len(ours) == 1 and ours[0]["exact"] is True and ours[0]["nom_usage"] is None
        assert ours[0]["status"] is None
    else:
        assert ours == [] and len(duplicates) == 1 and duplicates[0]["masked"] is True
        nothing_of(key, answer)


@PROPERTY
@edges(variant="date_typo")
@given(who=principals(), key=st.sampled_from(sorted(PEOPLE)), variant=st.sampled_from(VARIANTS))
def test_m1_the_duplicate_check_masks_strangers(client, issuer, people, who, key, variant):
    role, scope = who
    answer = client.post("/candidates/duplicates", json=typed(key, variant), headers=token(issuer, role, scope))
    if role not in AGENT_ROLES | CENTRE_ROLES:  # candidate.create (policy)
        assert answer.status_code == 403
        nothing_of(key, answer)
        return
    assert answer.status_code == 200, answer.json
    check_answer(role, scope, key, variant, people, answer.json["duplicates"], answer)


@PROPERTY
@edges(variant="swapped")
@given(who=principals(), key=st.sampled_from(sorted(PEOPLE)), variant=st.sampled_from(VARIANTS))
def test_m1_the_409_of_a_creation_masks_strangers(client, issuer, people, who, key, variant):
    role, scope = who
    if role in CENTRE_ROLES and len(scope["sirets"]) != 1:
        scope = {"sirets": [SIRET_A]}  # a creation needs one SIRET (else 422 before any check)
    body = {**typed(key, variant), "genre": "F", "birth_country_code": "99100"}
    answer = client.post("/candidates", json=body, headers=token(issuer, role, scope))
    if role not in AGENT_ROLES | CENTRE_ROLES:
        assert answer.status_code == 403
        nothing_of(key, answer)
        return
    assert answer.status_code == 409, answer.json  # never created: every variant is a probable duplicate
    check_answer(role, scope, key, variant, people, answer.json["duplicates"], answer)
