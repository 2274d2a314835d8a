"""P9 lists over HTTP on PostgreSQL, a page at a time: GET /sessions?progress=… answers `total`, `page`, `per_page`
and one page of sessions, oldest validation first; the scope (I4) and the progress are filtered by the service, so a
page holds only the agent's sessions and the total is the scope's, not the country's."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ceres_printing import samples

from .conftest import bearer, deliver

MARSEILLE = [f"p9-page-13-{i}" for i in range(5)]
PARTIAL, LYON = "p9-page-13-partial", "p9-page-69"


@pytest.fixture(scope="module")
def agents(issuer):
    def token(role, **scope):
        return bearer(issuer.issue(f"{role}-p9", role, scope=scope, ttl=3600))

    return {"ud13": token("ud", departements=["13"]), "dgefp": token("dgefp", national=True),
            "centre": token("gestionnaire", sirets=["30012845100014"])}


@pytest.fixture(scope="module")
def validated(rt, client, agents):
    """Five Bouches-du-Rhône sessions with no request (validated on days 1..5), one partly requested, one in Rhône."""
    deliver(rt, "titre.published", samples.TITRE)
    deliver(rt, "site.created", samples.site("p9-site-13", departement="13", region="93", commune_code="13055"))
    deliver(rt, "site.created", samples.site("p9-site-69", departement="69", region="84", commune_code="69123"))
    for cid in range(4001, 4009):
        deliver(rt, "candidate.registered", samples.candidate(cid, f"NOM{cid}"))
    # validated in reverse order of their ids: the list must follow the validation date, not the id
    for day, session_id in zip(range(5, 0, -1), MARSEILLE):
        deliver(rt, "session.validated", samples.session_validated(
            session_id, "p9-site-13", [(4001 + day - 1, "titre", [])], commune_code="13055",
            validated_at=datetime(2022, 11, day, 10, tzinfo=timezone.utc)))
    deliver(rt, "session.validated", samples.session_validated(
        PARTIAL, "p9-site-13", [(4006, "titre", []), (4007, "ajourne", [])], commune_code="13055",
        validated_at=datetime(2022, 11, 6, 10, tzinfo=timezone.utc)))
    deliver(rt, "session.validated", samples.session_validated(
        LYON, "p9-site-69", [(4008, "titre", [])], commune_code="69123"))
    url = f"/sessions/{PARTIAL}/candidates/4006"
    assert client.post(url + "/verification", json={"conformes": True}, headers=agents["ud13"]).status_code == 200
    assert client.post(url + "/print-requests", json={}, headers=agents["ud13"]).status_code == 201


def listed(client, headers, **params):
    answer = client.get("/sessions", query_string=params, headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_p9_sessions_by_pages_in_the_scope(client, agents, validated):
    oldest_first = list(reversed(MARSEILLE))
    first = listed(client, agents["ud13"], progress="sans_demande", per_page=2)
    assert (first["total"], first["page"], first["per_page"]) == (5, 1, 2)
    assert [s["session_id"] for s in first["sessions"]] == oldest_first[:2]
    second = listed(client, agents["ud13"], progress="sans_demande", per_page=2, page=2)
    assert [s["session_id"] for s in second["sessions"]] == oldest_first[2:4]
    last = listed(client, agents["ud13"], progress="sans_demande", per_page=2, page=3)
    assert [s["session_id"] for s in last["sessions"]] == oldest_first[4:] and last["total"] == 5
    beyond = listed(client, agents["ud13"], progress="sans_demande", per_page=2, page=4)
    assert beyond["sessions"] == [] and beyond["total"] == 5
    # no paging asked: a page of 100, the whole scope here (what a caller that does not page yet used to get)
    whole = listed(client, agents["ud13"], progress="sans_demande")
    assert whole["per_page"] == 100 and [s["session_id"] for s in whole["sessions"]] == oldest_first
    partial = listed(client, agents["ud13"], progress="partielles")
    assert partial["total"] == 1 and partial["sessions"][0]["session_id"] == PARTIAL
    assert (partial["sessions"][0]["requested"], partial["sessions"][0]["candidates_with_documents"]) == (1, 2)


def test_p9_national_total_matches_the_dashboard(client, agents, validated):
    board = client.get("/dashboard", headers=agents["dgefp"]).json
    national = listed(client, agents["dgefp"], progress="sans_demande", per_page=1)
    assert national["total"] == board["sessions_sans_demande"] == 6  # Rhône's too
    assert len(national["sessions"]) == 1
    ids = {s["session_id"] for p in (1, 2, 3, 4, 5, 6)
           for s in listed(client, agents["dgefp"], progress="sans_demande", per_page=1, page=p)["sessions"]}
    assert ids == {*MARSEILLE, LYON}


def test_p9_paging_bounds_and_permission(client, agents, validated):
    too_many = client.get("/sessions", query_string={"progress": "sans_demande", "per_page": 101},
                          headers=agents["ud13"])
    assert too_many.status_code == 422 and "Entre 1 et 100." in str(too_many.json)
    assert client.get("/sessions", query_string={"progress": "sans_demande", "page": 0},
                      headers=agents["ud13"]).status_code == 422
    assert client.get("/sessions", query_string={"progress": "sans_demande"},
                      headers=agents["centre"]).status_code == 403
