"""Jurisdiction as properties (Hypothesis) over role × territory × resource, over HTTP on PostgreSQL: for every
action on establishments — site transfer (E5), centre edit (E3), site create and edit (E4), agrément request and
decisions (E7), search and reads (E6) — an agent whose scope does not cover the place is refused (403) and nothing
changes (rows, audit, outbox); one whose scope covers it is allowed as the policy says.

The oracle below is written from the rules (I4, E3-E7), not from access.py: agents by the site's own location
(national, région or département), for a centre its address or any of its sites; centre users by their SIRETs.
One database per module (the `est` fixture): examples run one after the other on its changing state."""
from __future__ import annotations

import uuid
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from ceres_shared.auth import AGENT_ROLES, CENTRE_ROLES
from ceres_establishments.models import CENTRE_DE_REPRISE_SIRET
from ceres_establishments.service_layer.access import OUT_OF_SCOPE

from est_data import AIN_SIRET, LYON_SIRET, PARIS_SIRET, REUNION_SIRET

DEPARTEMENTS = ("01", "69", "75", "92", "974", "13")
REGIONS = ("84", "11", "04", "93")
SIRETS = (AIN_SIRET, LYON_SIRET, PARIS_SIRET, REUNION_SIRET, CENTRE_DE_REPRISE_SIRET)
# commune -> (département, région), written here rather than read from the code under test
COMMUNES = {"01053": ("01", "84"), "69266": ("69", "84"), "75111": ("75", "11"), "92060": ("92", "11"),
            "97411": ("974", "04"), "13055": ("13", "93")}
DECIDERS = {"dreets", "deets", "dgefp", "admin"}  # E7
TITRE = "TP-01280"
NOT_ALLOWED = "Vous n'avez pas les droits pour cette action."  # the role itself may not (policy)
# Edges every property runs whatever Hypothesis draws: allowed (national), refused by role, refused by territory
# (a département with no site, ever).
NATIONAL, NO_SIRET, ELSEWHERE = ("admin", {}), ("gestionnaire", {"sirets": []}), ("ud", {"departements": ["2A"]})
PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
# Control and invisible characters are refused at the edge (C5, L7), before any check.
PRINTABLE = st.characters(blacklist_categories=("Cc", "Cf", "Co", "Cs", "Zl", "Zp"))


def edges(**args):
    def apply(test):
        for who in (ELSEWHERE, NO_SIRET, NATIONAL):
            test = example(who=who, **args)(test)
        return test
    return apply


@st.composite
def principals(draw):
    """(role, scope) of a token: any role of the service, any mix of territories or SIRETs."""
    role = draw(st.sampled_from(sorted(AGENT_ROLES | CENTRE_ROLES)))
    if role in CENTRE_ROLES:
        return role, {"sirets": sorted(draw(st.sets(st.sampled_from(SIRETS), max_size=2)))}
    scope = {"departements": sorted(draw(st.sets(st.sampled_from(DEPARTEMENTS), max_size=2))),
             "regions": sorted(draw(st.sets(st.sampled_from(REGIONS), max_size=1)))}
    if draw(st.integers(0, 5)) == 0:
        scope["national"] = True
    return role, scope


# -- the oracle -----------------------------------------------------------------------------------------------
def national(role, scope) -> bool:
    return role in ("dgefp", "admin") or (role in AGENT_ROLES and bool(scope.get("national")))


def covers_place(role, scope, departement, region) -> bool:
    if role not in AGENT_ROLES:
        return False
    return (national(role, scope) or departement in scope.get("departements", ())
            or region in scope.get("regions", ()))


def sees_site(role, scope, site) -> bool:
    if role in CENTRE_ROLES:
        return site["centre_siret"] in scope["sirets"]
    return covers_place(role, scope, site["departement"], site["region"])


def sees_centre(role, scope, centre, sites) -> bool:
    if role in CENTRE_ROLES:
        return centre["siret"] in scope["sirets"]
    return covers_place(role, scope, centre["departement"], centre["region"]) or any(
        covers_place(role, scope, s["departement"], s["region"]) for s in sites if s["centre_id"] == centre["id"])


# -- database state -------------------------------------------------------------------------------------------
def rows(runtime, sql, **params) -> list[dict]:
    with runtime.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(sql), params)]


def sites_of(runtime) -> list[dict]:
    return rows(runtime, "SELECT s.id, s.centre_id, s.departement, s.region, s.closed_at, s.version, "
                         "c.siret AS centre_siret FROM sites s JOIN centres c ON c.id = s.centre_id ORDER BY s.id")


def centres_of(runtime) -> list[dict]:
    return rows(runtime, "SELECT id, siret, departement, region, version FROM centres ORDER BY id")


def state(runtime) -> tuple:
    """Everything an action could change: the records and their versions, decisions, audit trail, outbox."""
    return (
        rows(runtime, "SELECT * FROM centres ORDER BY id"),
        rows(runtime, "SELECT * FROM sites ORDER BY id"),
        rows(runtime, "SELECT id, site_id, status, valid_from, valid_until, version FROM agrements ORDER BY id"),
        rows(runtime, "SELECT count(*) AS n FROM agrement_decisions"),
        # a refusal itself is traced (issue 12): the record's trail is what must not move
        rows(runtime, "SELECT count(*) AS n FROM audit_log WHERE action <> 'refus_perimetre'"),
        rows(runtime, "SELECT count(*) AS n FROM outbox"),
    )


def refused_and_unchanged(runtime, response, before) -> None:
    assert response.status_code == 403, (response.status_code, response.json)
    assert response.json["detail"] in (NOT_ALLOWED, OUT_OF_SCOPE), response.json
    assert state(runtime) == before


def open_sites(runtime) -> list[dict]:
    return [s for s in sites_of(runtime) if s["closed_at"] is None]


# -- E5 ---------------------------------------------------------------------------------------------------------
@PROPERTY
@edges(pick=0, target=LYON_SIRET)
@given(who=principals(), pick=st.integers(0, 10_000), target=st.sampled_from(SIRETS[:4]))
def test_e5_transfer_only_by_an_agent_competent_for_the_site(est, as_, who, pick, target):
    runtime, client = est
    role, scope = who
    sites = open_sites(runtime)
    site = sites[pick % len(sites)]
    if site["centre_siret"] == target:  # a transfer to the same centre is another rule (409)
        target = next(t for t in SIRETS[:4] if t != target)
    before = state(runtime)
    response = client.post(f"/sites/{site['id']}/transfer", json={"siret": target, "version": site["version"]},
                           headers=as_(role, **scope))
    if covers_place(role, scope, site["departement"], site["region"]):
        assert response.status_code == 200, response.json
        moved = {s["id"]: s for s in sites_of(runtime)}[site["id"]]
        assert moved["centre_siret"] == target
    else:
        refused_and_unchanged(runtime, response, before)


# -- E3 ---------------------------------------------------------------------------------------------------------
@PROPERTY
@edges(pick=1, note="")
@given(who=principals(), pick=st.integers(0, 10_000), note=st.text(PRINTABLE, max_size=30))
def test_e3_centre_edit_only_within_scope(est, as_, who, pick, note):
    runtime, client = est
    role, scope = who
    centres, sites = centres_of(runtime), sites_of(runtime)
    centre = centres[pick % len(centres)]
    before = state(runtime)
    response = client.patch(f"/centres/{centre['id']}", json={"commentaires": f"{note} {uuid.uuid4().hex}"},
                            headers=as_(role, **scope))
    allowed = role in AGENT_ROLES and sees_centre(role, scope, centre, sites)
    if allowed and centre["siret"] == CENTRE_DE_REPRISE_SIRET and not national(role, scope):
        # only the national administration edits the centre de reprise
        assert response.status_code == 403 and response.json["type"].endswith("#reprise_national")
        assert state(runtime) == before
    elif allowed:
        assert response.status_code == 200, response.json
        assert response.json["version"] == centre["version"] + 1
    else:
        refused_and_unchanged(runtime, response, before)


# -- E4 ---------------------------------------------------------------------------------------------------------
@PROPERTY
@edges(pick=0, commune="01053")
@given(who=principals(), pick=st.integers(0, 10_000), commune=st.sampled_from(sorted(COMMUNES)))
def test_e4_site_created_only_in_the_agents_territory(est, as_, who, pick, commune):
    runtime, client = est
    role, scope = who
    centres = [c for c in centres_of(runtime) if c["siret"] != CENTRE_DE_REPRISE_SIRET]
    centre = centres[pick % len(centres)]
    before = state(runtime)
    sees = sees_centre(role, scope, centre, sites_of(runtime))
    response = client.post(f"/centres/{centre['id']}/sites", headers=as_(role, **scope), json={
        "name": f"Annexe {uuid.uuid4().hex[:6]}", "adresse": "1 rue de la Gare", "commune_code": commune})
    # the site's commune decides (not the centre's address), on a centre the caller may act on (I4)
    if sees and covers_place(role, scope, *COMMUNES[commune]):
        assert response.status_code == 201, response.json
        assert (response.json["departement"], response.json["region"]) == COMMUNES[commune]
    else:
        refused_and_unchanged(runtime, response, before)


@PROPERTY
@edges(pick=0, commune=None)
@given(who=principals(), pick=st.integers(0, 10_000), commune=st.sampled_from([None, *sorted(COMMUNES)]))
def test_e4_site_edit_needs_the_old_and_the_new_place(est, as_, who, pick, commune):
    runtime, client = est
    role, scope = who
    sites = open_sites(runtime)
    site = sites[pick % len(sites)]
    change = {"representant": f"Mme {uuid.uuid4().hex[:6]}"}
    if commune:
        change["commune_code"] = commune
    before = state(runtime)
    response = client.patch(f"/sites/{site['id']}", json=change, headers=as_(role, **scope))
    allowed = covers_place(role, scope, site["departement"], site["region"]) and (
        commune is None or covers_place(role, scope, *COMMUNES[commune]))
    if allowed:
        assert response.status_code == 200, response.json
        assert response.json["representant"] == change["representant"]
    else:
        refused_and_unchanged(runtime, response, before)


# -- E7 ---------------------------------------------------------------------------------------------------------
def _pending_agrement(runtime, client, as_, site) -> dict:
    """An agrément of TITRE on the site, requested (by the national administration) if none is open."""
    found = rows(runtime, "SELECT id, status FROM agrements WHERE site_id = :s AND titre_code = :t "
                          "AND status IN ('en_instruction', 'accorde')", s=site["id"], t=TITRE)
    if found:
        return found[0]
    response = client.post(f"/sites/{site['id']}/agrements", json={"titre_code": TITRE}, headers=as_("admin"))
    assert response.status_code == 201, response.json
    return {"id": response.json["id"], "status": "en_instruction"}


@PROPERTY
@edges(pick=0, choice=0)
@given(who=principals(), pick=st.integers(0, 10_000), choice=st.integers(0, 2))
def test_e7_decisions_only_by_the_competent_dreets(est, as_, titre_catalogue, who, pick, choice):
    runtime, client = est
    role, scope = who
    sites = open_sites(runtime)
    site = sites[pick % len(sites)]
    agrement = _pending_agrement(runtime, client, as_, site)
    action = {"en_instruction": ("instruct", "grant", "refuse"), "accorde": ("withdraw", "end", "withdraw")}[
        agrement["status"]][choice]
    body = {"reason": "Contrôle"}
    if action == "grant":
        body.update(valid_from="2025-01-01", valid_until="2027-12-31")
    before = state(runtime)
    response = client.post(f"/agrements/{agrement['id']}/{action}", json=body, headers=as_(role, **scope))
    if role in DECIDERS and covers_place(role, scope, site["departement"], site["region"]):
        assert response.status_code == 200, response.json
        decisions = response.json["decisions"]
        assert decisions[-1]["action"] == action and decisions[-1]["by"].startswith(f"{role}:")
    else:
        refused_and_unchanged(runtime, response, before)


@PROPERTY
@edges(pick=0)
@given(who=principals(), pick=st.integers(0, 10_000))
def test_e7_request_by_a_competent_agent_or_the_sites_centre(est, as_, titre_catalogue, who, pick):
    runtime, client = est
    role, scope = who
    sites = open_sites(runtime)
    site = sites[pick % len(sites)]
    code = f"TP-{uuid.uuid4().int % 90_000 + 10_000:05d}"
    _publish(runtime, code)
    before = state(runtime)
    response = client.post(f"/sites/{site['id']}/agrements", json={"titre_code": code}, headers=as_(role, **scope))
    if sees_site(role, scope, site):
        assert response.status_code == 201, response.json
        assert response.json["status"] == "en_instruction"
    else:
        refused_and_unchanged(runtime, response, before)


# -- E6 and reads -----------------------------------------------------------------------------------------------
@PROPERTY
@edges(q="l")
@given(who=principals(), q=st.sampled_from(["l", "annexe", "saint", "institut", "centre", AIN_SIRET[:9],
                                            LYON_SIRET, "30012845100022", "lycee est"]))
def test_e6_search_shows_exactly_what_the_scope_covers(est, as_, who, q):
    runtime, client = est
    role, scope = who
    sites = sites_of(runtime)
    by_id = {s["id"]: s for s in sites}
    centres = {c["id"]: c for c in centres_of(runtime)}
    everything = client.get("/search", query_string={"q": q, "per_page": 100}, headers=as_("admin")).json
    assert not any(everything["counts_capped"].values())
    mine = client.get("/search", query_string={"q": q, "per_page": 100}, headers=as_(role, **scope))
    assert mine.status_code == 200, mine.json  # every role of the service may search (E6), within its scope
    found = mine.json
    expected_sites = [s["id"] for s in everything["sites"] if sees_site(role, scope, by_id[s["id"]])]
    expected_centres = [c["id"] for c in everything["centres"] if sees_centre(role, scope, centres[c["id"]], sites)]
    # nothing outside the scope, nothing inside it missing, counts that do not leak
    assert [s["id"] for s in found["sites"]] == expected_sites[:100]
    assert [c["id"] for c in found["centres"]] == expected_centres[:100]
    assert found["counts"] == {"CENTRE": len(expected_centres), "SITE": len(expected_sites)}


@PROPERTY
@edges(pick=0)
@given(who=principals(), pick=st.integers(0, 10_000))
def test_reads_of_sites_centres_and_agrements_follow_the_scope(est, as_, who, pick):
    runtime, client = est
    role, scope = who
    sites = sites_of(runtime)
    site = sites[pick % len(sites)]
    centre = {c["id"]: c for c in centres_of(runtime)}[site["centre_id"]]
    headers = as_(role, **scope)
    site_read = client.get(f"/sites/{site['id']}", headers=headers)
    agrements_read = client.get(f"/sites/{site['id']}/agrements", headers=headers)
    centre_read = client.get(f"/centres/{centre['id']}", headers=headers)
    assert site_read.status_code == agrements_read.status_code == (200 if sees_site(role, scope, site) else 403)
    assert centre_read.status_code == (200 if sees_centre(role, scope, centre, sites) else 403)
    if centre_read.status_code == 200:  # the centre's list of sites is cut to the caller's scope too
        listed = client.get(f"/centres/{centre['id']}/sites", headers=headers).json
        assert {s["id"] for s in listed} == {
            s["id"] for s in sites if s["centre_id"] == centre["id"] and sees_site(role, scope, s)}


# -- fixtures ---------------------------------------------------------------------------------------------------
def _publish(runtime, code: str) -> None:
    from ceres_shared.events import make_envelope

    envelope = make_envelope("titre.published", {
        "code": code, "version_date": "2024-01-15", "libelle": f"Titre {code}", "kind": "TP", "level": 4,
        "nsf_codes": ["200"], "end_of_validity": date(2030, 1, 15).isoformat(), "ccs_of": None}, producer="sessions")
    with runtime.session_factory() as session:
        for handler in runtime.handlers["titre.published"]:
            handler(session, envelope)
        session.commit()


@pytest.fixture(scope="module")
def titre_catalogue(est):
    """The titre whose agréments the properties request and decide (as the sessions service would publish it)."""
    _publish(est[0], TITRE)
