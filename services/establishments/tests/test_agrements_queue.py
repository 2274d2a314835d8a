"""E7: GET /agrements lists the agréments of one status (by default « en cours d'instruction », the queue a DREETS
decides) within the caller's scope (I4), oldest request first, a page at a time — over HTTP on PostgreSQL with the
demo's requests (Lyon 3e and Bourg-en-Bresse in région 84, Saint-Pierre in région 04)."""
from __future__ import annotations

from ceres_establishments.service_layer.sites import site_id_for

from est_data import AIN_SIRET, LYON_SIRET, REUNION_SIRET

LYON_3E, BOURG, SAINT_PIERRE = site_id_for(LYON_SIRET, 1), site_id_for(AIN_SIRET, 1), site_id_for(REUNION_SIRET, 2)


def queue(client, headers, **params) -> dict:
    answer = client.get("/agrements", query_string=params, headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json


def sites_of(listing: dict) -> list[str]:
    return [a["site"]["id"] for a in listing["agrements"]]


def test_e7_the_dreets_sees_its_regions_requests_to_instruct_oldest_first(est, as_):
    _, client = est
    listing = queue(client, as_("dreets", regions=["84"]))
    assert listing["status"] == "en_instruction" and listing["total"] == 2
    assert sites_of(listing) == [LYON_3E, BOURG]  # in the order the demo asked
    first = listing["agrements"][0]
    assert first["titre_code"] == "TP-00391" and first["titre_libelle"] == "Assistant(e) de vie aux familles"
    assert first["site"]["name"] == "Institut lyonnais — Lyon 3e" and first["site"]["region"] == "84"
    assert first["centre"]["siret"] == LYON_SIRET and first["status"] == "en_instruction"
    assert first["requested_at"] <= listing["agrements"][1]["requested_at"]
    reunion = queue(client, as_("deets", regions=["04"]))
    assert sites_of(reunion) == [SAINT_PIERRE] and reunion["agrements"][0]["centre"]["siret"] == REUNION_SIRET


def test_e7_scope_another_region_or_departement_gets_nothing_of_it(est, as_):
    _, client = est
    assert queue(client, as_("dreets", regions=["11"])) == {"total": 0, "page": 1, "per_page": 20,
                                                            "status": "en_instruction", "agrements": []}
    assert sites_of(queue(client, as_("ud", departements=["01"]))) == [BOURG]
    assert sites_of(queue(client, as_("ud", departements=["69"]))) == [LYON_3E]
    assert queue(client, as_("ud", departements=["75"]))["total"] == 0
    assert queue(client, as_("dgefp", national=True))["total"] == 3
    # A centre sees its own sites' requests only; the Afpa and anonymous callers are refused.
    assert sites_of(queue(client, as_("gestionnaire", sirets=[LYON_SIRET]))) == [LYON_3E]
    assert client.get("/agrements", headers=as_("afpa")).status_code == 403
    assert client.get("/agrements").status_code == 401


def test_e7_other_statuses_pages_and_french_errors(est, as_):
    _, client = est
    dreets = as_("dreets", regions=["84"])
    granted = queue(client, dreets, status="accorde")
    # Lyon 3e, Villeurbanne, Bourg-en-Bresse (TP-00463) and the misplaced Oyonnax site (TP-00391), all in 84.
    assert granted["total"] == 4 and {a["status"] for a in granted["agrements"]} == {"accorde"}
    first, second = queue(client, dreets, per_page=1), queue(client, dreets, per_page=1, page=2)
    assert first["total"] == second["total"] == 2 and sites_of(first) + sites_of(second) == [LYON_3E, BOURG]
    bad = client.get("/agrements", query_string={"status": "perdu", "per_page": 500}, headers=dreets)
    assert bad.status_code == 422
    assert bad.json["errors"]["status"] == ["Statut inconnu : en_instruction, accorde, refuse, retire, termine."]
    assert bad.json["errors"]["per_page"] == ["Entre 1 et 100."]


def test_e7_a_decided_request_leaves_the_queue(est, as_):
    _, client = est
    dreets = as_("dreets", regions=["84"])
    pending = queue(client, dreets)["agrements"][0]
    refused = client.post(f"/agrements/{pending['id']}/refuse", json={"reason": "Plateau technique absent"},
                          headers=dreets)
    assert refused.status_code == 200 and refused.json["status"] == "refuse"
    assert sites_of(queue(client, dreets)) == [BOURG]
    assert [a["id"] for a in queue(client, dreets, status="refuse")["agrements"]] == [pending["id"]]
