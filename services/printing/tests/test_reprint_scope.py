"""I4 as properties (Hypothesis) over role × territory × person, for every printing endpoint that takes a candidate
id: the reprint's check and preview (P8), and a validated session's candidate (P1), documents, attestation. A caller
whose scope does not cover the person never gets the person's names or birth date, in any answer, error included;
one who covers the person and the département gets the reprint's summary.

The oracle is written from the rules, not from services.py: an agent covers a person living in its département or
région (the postcode of the address), or who sat a session of its territory; national profiles cover everyone."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ceres_shared.auth import ALL_ROLES, AGENT_ROLES
from ceres_printing import samples

from .conftest import bearer, deliver

TITRE = samples.TITRE
DEPARTEMENTS = ("01", "69", "75", "974", "13")
REGIONS = ("84", "11", "04", "93")
REGION = {"01": "84", "69": "84", "75": "11", "974": "04", "13": "93"}  # written here, not read from the code
SESSION = "scope-ain-2022"  # validated in Bourg-en-Bresse (01)
# id -> (nom, prénom, birth date, where the person lives: (postcode, country) or None, sessions sat)
PEOPLE = {
    5101: ("ALPHAND", "Ombeline", "1981-04-17", ("75011", "FRANCE"), ()),
    5102: ("BERTHOLET", "Quentin", "1993-10-29", ("69002", "FRANCE"), (SESSION,)),  # sat in the Ain
    5103: ("COURTADE", "Ysaline", "1976-12-08", ("97400", "FRANCE"), ()),
    5104: ("DELAPORTE", "Gontran", "1988-01-23", ("1000", "BELGIQUE"), ()),  # abroad: no département
    5105: ("ESCANDE", "Philibert", "1990-07-14", None, ()),  # no address at all
}
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module", autouse=True)
def world(rt):
    deliver(rt, "titre.published", TITRE)
    deliver(rt, "site.created", samples.site("site-bourg", departement="01", region="84", commune_code="01053"))
    for cid, (nom, prenom, born, home, _) in PEOPLE.items():
        payload = samples.candidate(cid, nom, prenom, "F", born, "Vichy")
        payload["address"] = None if home is None else {
            "lines": ["1 rue Haute"], "code_postal": home[0], "commune_label": "Ville", "country": home[1]}
        deliver(rt, "candidate.registered", payload)
    sat = [cid for cid, person in PEOPLE.items() if SESSION in person[4]]
    deliver(rt, "session.validated", samples.session_validated(SESSION, "site-bourg", [(c, "titre", []) for c in sat],
                                                              commune_code="01053"))


@st.composite
def principals(draw):
    """(role, scope): any role, any mix of départements and régions, sometimes national."""
    role = draw(st.sampled_from(sorted(ALL_ROLES)))
    scope = {"departements": sorted(draw(st.sets(st.sampled_from(DEPARTEMENTS), max_size=2))),
             "regions": sorted(draw(st.sets(st.sampled_from(REGIONS), max_size=1)))}
    if draw(st.integers(0, 6)) == 0:
        scope["national"] = True
    return role, scope


def national(role, scope) -> bool:
    return role in ("dgefp", "admin") or (role in AGENT_ROLES and bool(scope.get("national")))


def covers_place(role, scope, departement) -> bool:
    return role in AGENT_ROLES and (national(role, scope) or departement in scope["departements"]
                                    or REGION.get(departement) in scope["regions"])


def covers_person(role, scope, cid) -> bool:
    _, _, _, home, sat = PEOPLE[cid]
    lives = home[0][:3] if home and home[0].startswith("97") else (home[0][:2] if home and home[1] == "FRANCE"
                                                                  else None)
    return (national(role, scope) or (lives is not None and covers_place(role, scope, lives))
            or (bool(sat) and covers_place(role, scope, "01")))


def no_personal_data(cid, response) -> None:
    nom, prenom, born, _, _ = PEOPLE[cid]
    body = response.get_data(as_text=True)
    for secret in (nom, prenom, born, born[:4]):
        assert secret not in body, (response.status_code, body)


def reprint(cid, departement, number) -> dict:
    return {"number": number, "candidate_id": cid, "titre_code": TITRE["code"],
            "titre_version": TITRE["version_date"], "issued_on": "2019-06-14", "departement": departement}


EDGES = [(("ud", {"departements": ["69"], "regions": []}), 5101, "69"),  # the département sent is its own
         (("dreets", {"departements": [], "regions": ["84"]}), 5103, "01"),
         (("ud", {"departements": ["01"], "regions": []}), 5104, "01"),
         (("ud", {"departements": ["01"], "regions": []}), 5102, "01"),  # lives elsewhere, sat in the Ain
         (("admin", {"departements": [], "regions": []}), 5105, "75")]


def edges(test):
    for who, cid, dep in EDGES:
        test = example(who=who, cid=cid, departement=dep)(test)
    return test


@PROPERTY
@edges
@given(who=principals(), cid=st.sampled_from(sorted(PEOPLE)), departement=st.sampled_from(DEPARTEMENTS))
def test_i4_reprint_check_and_preview_never_show_a_person_out_of_scope(client, issuer, who, cid, departement):
    role, scope = who
    headers = bearer(issuer.issue(f"{role}-x", role, scope=scope, ttl=600))
    may = role in ("ud", "dreets", "deets", "admin")  # print.request (policy)
    allowed = may and covers_place(role, scope, departement) and covers_person(role, scope, cid)
    checked = client.post("/reprints/check", json=reprint(cid, departement, "SCOPE-0001"), headers=headers)
    preview = client.post("/reprints/preview", json=reprint(cid, departement, "SCOPE-0001"), headers=headers)
    if allowed:
        assert checked.status_code == 200, checked.json
        assert checked.json["holder"] == f"Madame {PEOPLE[cid][0]} {PEOPLE[cid][1]}"
        assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    else:
        for answer in (checked, preview):
            assert answer.status_code in (401, 403, 422), answer.get_data(as_text=True)
            no_personal_data(cid, answer)
        if may and covers_place(role, scope, departement):
            # out of scope reads as an unknown number: the same answer as for an id no one holds
            unknown = client.post("/reprints/check", json=reprint(999_999, departement, "SCOPE-0001"),
                                  headers=headers)
            same = {k: v for k, v in unknown.json.items() if k != "correlation_id"}
            assert checked.status_code == 422 and {k: v for k, v in checked.json.items() if k != "correlation_id"} \
                == same


@PROPERTY
@given(who=principals(), cid=st.sampled_from(sorted(PEOPLE)),
       path=st.sampled_from(["", "/attestation", "/documents/X/preview"]))
def test_i4_a_validated_sessions_candidate_only_within_the_sessions_scope(client, issuer, who, cid, path):
    role, scope = who
    headers = bearer(issuer.issue(f"{role}-y", role, scope=scope, ttl=600))
    answer = client.get(f"/sessions/{SESSION}/candidates/{cid}{path}", headers=headers)
    if not covers_place(role, scope, "01"):  # the session's territory (P1), whoever the person is
        assert answer.status_code in (401, 403, 404)
        no_personal_data(cid, answer)
    elif SESSION not in PEOPLE[cid][4]:  # not a candidate of that session
        assert answer.status_code == 404
        no_personal_data(cid, answer)
    elif path == "":
        assert answer.status_code == 200 and answer.json["holder"].endswith(f"{PEOPLE[cid][0]} {PEOPLE[cid][1]}")


def test_i4_a_reprint_check_of_a_person_out_of_scope_is_traced_an_unknown_number_is_not(client, issuer):
    from ceres_shared.testing.audit import scope_refusals

    ud = bearer(issuer.issue("ud-01-trace", "ud", scope={"departements": ["01"]}, ttl=600))
    admin = bearer(issuer.issue("admin-trace", "admin", ttl=600))
    for cid in (5101, 999_999):  # ALPHAND lives in Paris; no one holds the other number
        assert client.post("/reprints/check", json=reprint(cid, "01", "SCOPE-0002"), headers=ud).status_code == 422
    total, rows = scope_refusals(client, admin, auteur="ud:ud-01-trace")
    assert total == 1 and (rows[0]["entity_type"], rows[0]["entity_id"]) == ("candidate", "5101")
