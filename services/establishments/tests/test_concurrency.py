"""Two concurrent decisions on one agrément (E7) and two concurrent transfers of one site (E5) (issue 12): the
first wins, the second gets 409 with the reason — on PostgreSQL and on SQLite (embedded mode), the demo seeded on
each. The requests overlap (ceres_shared.testing.concurrency.race)."""
from __future__ import annotations

import pytest

from ceres_shared.testing.concurrency import BACKENDS, race, settings_on
from ceres_establishments.adapters.company_register import ApiCompanyRegister
from ceres_establishments.app import create_app
from ceres_establishments.bootstrap import bootstrap
from ceres_establishments import demo
from ceres_establishments.service_layer.sites import site_id_for

from est_data import AIN_SIRET, LYON_SIRET

LYON_3E = site_id_for(LYON_SIRET, 1)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, infra, issuer, register_api, tmp_path_factory):
    settings = settings_on(request.param, "establishments", infra, tmp_path_factory)
    register = ApiCompanyRegister(register_api.url, timeout=(0.5, 1.0), retries=1, backoff=0.01)
    runtime = bootstrap(settings, jwks=issuer.jwks(), company_register=register)
    runtime.upgrade_database()
    demo.seed(runtime)
    yield runtime
    runtime.engine.dispose()


def test_e7_grant_against_refuse_the_second_is_told_the_agrement_is_granted(backend, as_):
    rt = backend
    dreets = as_("dreets", regions=["84"])
    client = create_app(rt).test_client()
    pending = client.get("/agrements", query_string={"status": "en_instruction"}, headers=dreets).json["agrements"]
    agrement_id = next(a["id"] for a in pending if a["site"]["id"] == LYON_3E)
    grant, refuse = create_app(rt).test_client(), create_app(rt).test_client()
    first, second = race(
        rt,
        lambda: grant.post(f"/agrements/{agrement_id}/grant", headers=dreets,
                           json={"valid_from": "2025-01-01", "valid_until": "2027-03-15"}),
        lambda: refuse.post(f"/agrements/{agrement_id}/refuse", headers=dreets, json={"reason": "Locaux"}))
    assert (first.status_code, second.status_code) == (200, 409), (first.json, second.json)
    assert second.json["detail"] == "Action impossible : l'agrément est accordé."
    decisions = client.get(f"/agrements/{agrement_id}", headers=dreets).json["decisions"]
    assert [d["action"] for d in decisions] == ["request", "grant"]


def test_e5_two_transfers_of_one_site_the_second_is_told_it_moved(backend, as_):
    rt = backend
    ud01 = as_("ud", departements=["01"])
    misplaced = site_id_for("00000000000000", 1)  # the demo's site of the centre de reprise, in Ain
    one, two = create_app(rt).test_client(), create_app(rt).test_client()
    body = {"siret": AIN_SIRET}
    first, second = race(rt, lambda: one.post(f"/sites/{misplaced}/transfer", json=body, headers=ud01),
                         lambda: two.post(f"/sites/{misplaced}/transfer", json=body, headers=ud01))
    assert (first.status_code, second.status_code) == (200, 409), (first.json, second.json)
    assert second.json["detail"] == "Le site est déjà rattaché à ce centre."
    history = create_app(rt).test_client().get(f"/history/site/{misplaced}", headers=ud01).json
    assert [e["action"] for e in history].count("transfer") == 1
