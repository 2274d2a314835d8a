"""Two concurrent validations of one record (C4) and two concurrent merges of one record into two others (C1)
(issue 12): the first wins, the second gets 409 with the reason — on PostgreSQL and on SQLite (embedded mode).
The requests overlap (ceres_shared.testing.concurrency.race)."""
from __future__ import annotations

import pytest

from ceres_shared.testing.concurrency import BACKENDS, race, settings_on
from ceres_candidates.app import create_app
from ceres_candidates.bootstrap import bootstrap


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, infra, issuer, communes, tmp_path_factory):
    runtime = bootstrap(settings_on(request.param, "candidates", infra, tmp_path_factory), jwks=issuer.jwks())
    runtime.upgrade_database()
    runtime.communes = communes
    yield runtime
    runtime.engine.dispose()


def _clients(rt, n=3):
    return [create_app(rt).test_client() for _ in range(n)]


def test_c4_two_validations_the_second_is_told_it_is_validated(backend, tokens, h):
    rt = backend
    setup, one, two = _clients(rt)
    created = setup.post("/candidates", json=h.person("Concurrent", ["Lise"], "1988-02-02"), headers=tokens["ud01"])
    assert created.status_code == 201, created.json
    url = f"/candidates/{created.json['id']}/validation"
    first, second = race(rt, lambda: one.post(url, headers=tokens["ud01"]),
                         lambda: two.post(url, headers=tokens["ud01"]))
    assert (first.status_code, second.status_code) == (200, 409), (first.json, second.json)
    assert second.json["detail"] == "Le dossier est validé : revenez à l'état brouillon pour le modifier."
    history = setup.get(f"/candidates/{created.json['id']}/history", headers=tokens["dgefp"]).json
    assert [e["action"] for e in history["entries"]].count("validate") == 1


def test_c1_one_record_merged_into_two_others_at_once_the_second_is_refused(backend, tokens, h):
    rt = backend
    setup, one, two = _clients(rt)
    ids = []
    for nom in ("Doublon", "DOUBLONN", "Doublonn"):
        body = {**h.person(nom, ["Marc"], "1984-06-07"), "duplicate_reason": "saisi plusieurs fois"}
        created = setup.post("/candidates", json=body, headers=tokens["ud01"])
        assert created.status_code == 201, created.json
        ids.append(created.json["id"])
    dup, keep, other = ids
    first, second = race(
        rt,
        lambda: one.post(f"/candidates/{keep}/merge", json={"merged_id": dup, "reason": "même personne"},
                         headers=tokens["ud01"]),
        lambda: two.post(f"/candidates/{other}/merge", json={"merged_id": dup, "reason": "même personne"},
                         headers=tokens["ud01"]))
    assert (first.status_code, second.status_code) == (200, 409), (first.json, second.json)
    assert second.json["detail"] == f"Le dossier n° {dup} a déjà été fusionné dans le dossier n° {keep}."
    assert setup.get(f"/candidates/{other}", headers=tokens["dgefp"]).json.get("merged_from", []) == []


def test_c4_two_returns_to_draft_the_second_is_told_it_is_a_draft(backend, tokens, h):
    rt = backend
    setup, one, two = _clients(rt)
    created = setup.post("/candidates", json=h.person("Brouillon", ["Lou"], "1991-04-04"), headers=tokens["ud01"])
    assert created.status_code == 201, created.json
    url = f"/candidates/{created.json['id']}"
    assert setup.post(f"{url}/validation", headers=tokens["ud01"]).status_code == 200
    first, second = race(rt, lambda: one.post(f"{url}/brouillon", headers=tokens["ud01"]),
                         lambda: two.post(f"{url}/brouillon", headers=tokens["ud01"]))
    assert (first.status_code, second.status_code) == (200, 409), (first.json, second.json)
    assert second.json["detail"] == "Le dossier est déjà à l'état brouillon."
