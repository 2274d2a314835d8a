"""P7 follow-up over HTTP on PostgreSQL: GET /pnd lists the scope's undeliverable documents not sent again yet, one
entry per candidate of a session, newest report first, a page at a time; the scope is checked on the server (I4):
an agent of another département or région gets nothing, a centre or the Afpa is refused."""
from __future__ import annotations

import pytest

from ceres_printing import samples
from ceres_printing.batches import build_due_batches

from .conftest import bearer, deliver

AIN, RHONE, REUNION = "pnd-sess-01", "pnd-sess-69", "pnd-sess-974"


@pytest.fixture(scope="module")
def agents(issuer):
    def token(role, **scope):
        return bearer(issuer.issue(f"{role}-pnd", role, scope=scope, ttl=3600))

    return {"ud01": token("ud", departements=["01"]), "ud69": token("ud", departements=["69"]),
            "ud75": token("ud", departements=["75"]), "dreets84": token("dreets", regions=["84"]),
            "deets04": token("deets", regions=["04"]), "dgefp": token("dgefp", national=True),
            "centre": token("gestionnaire", sirets=["30012845100014"]), "afpa": token("afpa")}


@pytest.fixture(scope="module")
def reported(rt, client, agents, afpa_headers):
    """Four candidates printed and posted in one batch; the Afpa reports three of them PND, one delivered."""
    deliver(rt, "titre.published", samples.TITRE)
    deliver(rt, "site.created", samples.site("pnd-site-01", departement="01", region="84", commune_code="01053"))
    deliver(rt, "site.created", samples.site("pnd-site-69", departement="69", region="84", commune_code="69123"))
    deliver(rt, "site.created", samples.site("pnd-site-974", departement="974", region="04", zone="drom",
                                             commune_code="97411"))
    for cid, nom in ((3001, "BRUNEL"), (3002, "GARNIER"), (3003, "HOARAU"), (3004, "LEGRAND")):
        deliver(rt, "candidate.registered", samples.candidate(cid, nom))
    deliver(rt, "session.validated", samples.session_validated(AIN, "pnd-site-01", [
        (3001, "titre", []), (3004, "ajourne", [])], commune_code="01053"))
    deliver(rt, "session.validated", samples.session_validated(RHONE, "pnd-site-69", [(3002, "ajourne", [])],
                                                               commune_code="69123"))
    deliver(rt, "session.validated", samples.session_validated(REUNION, "pnd-site-974", [(3003, "ajourne", [])],
                                                               commune_code="97411"))
    numbers = {}
    for session_id, cid, who in ((AIN, 3001, "ud01"), (AIN, 3004, "ud01"), (RHONE, 3002, "ud69"),
                                 (REUNION, 3003, "deets04")):
        url = f"/sessions/{session_id}/candidates/{cid}"
        assert client.post(url + "/verification", json={"conformes": True}, headers=agents[who]).status_code == 200
        assert client.post(url + "/print-requests", json={}, headers=agents[who]).status_code == 201
        numbers[cid] = [d["number"] for d in client.get(url, headers=agents[who]).json["documents"]]
    (batch_id,) = build_due_batches(rt, force=True)
    reports = []
    for hour, cid in ((10, 3001), (11, 3002), (12, 3003), (13, 3004)):
        fate = "delivered" if cid == 3004 else "pnd"
        reports += [{"batch_id": batch_id, "document_number": n, "status": s, "at": f"2022-12-05T{hour}:00:00+00:00"}
                    for n in numbers[cid] for s in ("posted", fate)]
    answer = client.post("/afpa/statuses", json={"reports": reports}, headers=afpa_headers)
    assert answer.status_code == 200, answer.json
    return {"batch_id": batch_id, "numbers": numbers}


def listed(client, headers, **params) -> dict:
    answer = client.get("/pnd", query_string=params, headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def test_p7_each_agent_sees_the_pnd_of_its_own_scope_only(client, agents, reported):
    ain = listed(client, agents["ud01"])
    assert ain["total"] == 1 and [e["candidate_id"] for e in ain["pnd"]] == [3001]
    entry = ain["pnd"][0]
    assert entry["holder"] == "Monsieur BRUNEL Henri" and entry["session_id"] == AIN
    assert entry["departement"] == "01" and entry["reported_at"].startswith("2022-12-05T10:00")
    # The diploma and its letter travel in one envelope: one entry, both documents, with the address they had.
    assert sorted(d["label"] for d in entry["documents"]) == ["Diplôme", "Lettre d'accompagnement du diplôme"]
    assert sorted(d["number"] for d in entry["documents"]) == sorted(reported["numbers"][3001])
    assert entry["documents"][0]["address"]["lines"] == ["12 rue de la Paix"]
    assert entry["documents"][0]["batch_id"] == reported["batch_id"]
    assert [e["candidate_id"] for e in listed(client, agents["ud69"])["pnd"]] == [3002]
    # The DREETS: its région's two départements, newest report first; the delivered candidate is not listed.
    assert [e["candidate_id"] for e in listed(client, agents["dreets84"])["pnd"]] == [3002, 3001]
    reunion = listed(client, agents["deets04"])["pnd"]
    assert [e["candidate_id"] for e in reunion] == [3003] and reunion[0]["documents"][0]["routed_to"] == "deets"
    assert listed(client, agents["dgefp"])["total"] == 3


def test_p7_scope_refusals_another_territory_gets_nothing_others_are_refused(client, agents, reported):
    assert listed(client, agents["ud75"]) == {"total": 0, "page": 1, "per_page": 20, "pnd": []}
    for who in ("centre", "afpa"):
        refused = client.get("/pnd", headers=agents[who])
        assert refused.status_code == 403, who
    assert client.get("/pnd").status_code == 401


def test_p7_pages_and_their_limits(client, agents, reported):
    first = listed(client, agents["dgefp"], per_page=2)
    assert first["total"] == 3 and [e["candidate_id"] for e in first["pnd"]] == [3003, 3002]
    second = listed(client, agents["dgefp"], per_page=2, page=2)
    assert [e["candidate_id"] for e in second["pnd"]] == [3001] and second["page"] == 2
    assert listed(client, agents["dgefp"], per_page=2, page=3)["pnd"] == []
    for bad in ({"per_page": 0}, {"per_page": 101}, {"page": 0}, {"page": "x"}):
        answer = client.get("/pnd", query_string=bad, headers=agents["dgefp"])
        assert answer.status_code == 422 and set(answer.json["errors"]) == set(bad), (bad, answer.json)


def test_p7_a_corrected_address_takes_the_candidate_off_the_list(rt, client, agents, reported):
    deliver(rt, "candidate.updated", samples.candidate(3001, "BRUNEL", street="8 rue Neuve"))
    assert listed(client, agents["ud01"])["total"] == 0
    assert [e["candidate_id"] for e in listed(client, agents["dreets84"])["pnd"]] == [3002]
