"""Two concurrent requests for the same step of one session (issue 12): one succeeds, the other gets 409 with the
reason, and the history holds the step once — on PostgreSQL and on SQLite (embedded mode). The requests really
overlap: ceres_shared.testing.concurrency.race holds each until the other has read the session too (or waits for
its lock)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from ceres_shared.testing.concurrency import BACKENDS, race, settings_on
from ceres_sessions.app import create_app
from ceres_sessions.bootstrap import bootstrap
from ceres_sessions.models import Transition

from .test_session_walk import make_jure


@pytest.fixture(scope="module", params=BACKENDS)
def rt(request, infra, issuer, tmp_path_factory):
    """The sessions runtime on either database (the conftest's fixtures — client, catalogue, world — follow)."""
    runtime = bootstrap(settings_on(request.param, "sessions", infra, tmp_path_factory), jwks=issuer.jwks())
    runtime.upgrade_database()
    yield runtime
    runtime.engine.dispose()


def _steps(rt, sid: str, action: str) -> int:
    with rt.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Transition)
                              .where(Transition.session_id == sid, Transition.action == action))


def _to_results_entry(w, frozen) -> tuple[str, int, int]:
    """A session in « convocations envoyées », real end date and jury entered: its results may be entered."""
    frozen(2024, 1, 15)
    sid = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 5))["id"]
    c1, c2 = w.candidate("DURAND"), w.candidate("PETIT")
    for cid in (c1, c2):
        assert w.post(sid, "candidats", w.centre, {"candidate_id": cid}).status_code == 201
    assert w.post(sid, "demande-dte", w.centre, {"candidate_count": 2}).status_code == 200
    frozen(2024, 4, 1)
    assert w.post(sid, "convocations", w.centre).status_code == 200
    for nom in ("MARTIN", "BERNARD"):
        assert w.post(sid, "jury", w.centre, {"jure_id": make_jure(w, nom=nom)}).status_code == 201
    frozen(2024, 6, 6)
    assert w.post(sid, "date-fin-reelle", w.centre, {"real_end_date": "2024-06-05"}).status_code == 200
    return sid, c1, c2


def _results(c1: int, c2: int) -> dict:
    return {"results": [{"candidate_id": c1, "decision": "titre"}, {"candidate_id": c2, "decision": "ajourne"}]}


def _first_wins(responses) -> tuple:
    """The two answers (first, second): the first 200, the second 409 with the step's French reason."""
    assert all(not isinstance(r, Exception) for r in responses), responses
    first, second = responses
    assert (first.status_code, second.status_code) == (200, 409), [(r.status_code, r.json) for r in responses]
    assert second.mimetype == "application/problem+json"
    return first, second


def test_two_ud_validations_one_succeeds_the_other_409(rt, client, world, frozen):
    w = world()
    sid, c1, c2 = _to_results_entry(w, frozen)
    assert w.client.put(f"/sessions/{sid}/resultats", headers=w.centre, json=_results(c1, c2)).status_code == 200
    clients = [create_app(rt).test_client() for _ in range(2)]
    responses = race(rt, *(lambda c=c: c.post(f"/sessions/{sid}/validation", headers=w.ud) for c in clients))
    _, loser = _first_wins(responses)
    assert loser.json["detail"] == "Impossible de valider la session : la session est « validée »."
    assert _steps(rt, sid, "valider") == 1


def test_two_results_entries_one_succeeds_the_other_409(rt, client, world, frozen):
    w = world()
    sid, c1, c2 = _to_results_entry(w, frozen)
    clients = [create_app(rt).test_client() for _ in range(2)]
    responses = race(rt, *(lambda c=c: c.put(f"/sessions/{sid}/resultats", headers=w.centre, json=_results(c1, c2))
                           for c in clients))
    _, loser = _first_wins(responses)
    assert loser.json["detail"] == "Impossible de saisir les résultats : la session est « résultats saisis »."
    assert _steps(rt, sid, "saisir_resultats") == 1


def test_cancel_against_postpone_the_second_sees_the_first(rt, client, world, frozen):
    w = world()
    frozen(2024, 1, 15)
    sid = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 5))["id"]
    cancel, postpone = create_app(rt).test_client(), create_app(rt).test_client()
    responses = race(
        rt,
        lambda: cancel.post(f"/sessions/{sid}/annulation", json={"reason": "Site indisponible"}, headers=w.ud),
        lambda: postpone.post(f"/sessions/{sid}/report", headers=w.ud, json={
            "starts_at": "2024-09-02T08:00:00+02:00", "ends_at": "2024-09-04T17:00:00+02:00", "reason": "Jury"}))
    winner, loser = _first_wins(responses)
    assert winner.json["status"] == "annulee"
    assert loser.json["detail"] == "Impossible de reporter la session : la session est « annulée »."
    with rt.session_factory() as session:
        actions = list(session.scalars(select(Transition.action).where(Transition.session_id == sid,
                                                                       Transition.action != "creer")))
    assert actions == ["annuler"]  # the postponement left no step


def test_two_enrolments_of_one_candidate_one_is_refused(rt, client, world, frozen):
    w = world()
    frozen(2024, 1, 15)
    sid = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 5))["id"]
    cid = w.candidate()
    clients = [create_app(rt).test_client() for _ in range(2)]
    responses = race(rt, *(lambda c=c: c.post(f"/sessions/{sid}/candidats", json={"candidate_id": cid},
                                              headers=w.centre) for c in clients))
    assert [r.status_code for r in responses] == [201, 409], [(r.status_code, r.json) for r in responses]
    assert responses[1].json["detail"] == "Ce candidat est déjà inscrit à la session."


def test_a_control_s_outcome_against_its_cancellation_the_second_is_told_it_is_closed(rt, client, world, frozen):
    w = world()
    frozen(2024, 1, 15)
    sid = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 5))["id"]
    planned = w.client.post(f"/sessions/{sid}/controles", json={"kind": "sur_place", "planned_on": "2024-06-04"},
                            headers=w.ud)
    assert planned.status_code == 201, planned.json
    control = planned.json["id"]
    frozen(2024, 6, 6)
    outcome, cancel = create_app(rt).test_client(), create_app(rt).test_client()
    first, second = race(
        rt,
        lambda: outcome.post(f"/controles/{control}/resultat", json={"outcome": "conforme"}, headers=w.ud),
        lambda: cancel.post(f"/controles/{control}/annulation", json={"reason": "Doublon"}, headers=w.ud))
    assert (first.status_code, second.status_code) == (200, 409), (first.json, second.json)
    assert second.json["detail"] == "Ce contrôle est déjà réalisé."
    assert w.client.get(f"/controles/{control}", headers=w.ud).json["status"] == "realise"


def test_two_early_closings_of_a_relaxation_period_the_second_is_told_it_is_closed(rt, client, world, frozen):
    w = world()
    frozen(2031, 3, 10)  # a period of its own: no other test's session falls in it
    opened = client.post("/assouplissements", headers=w.admin, json={
        "starts_on": "2031-03-01", "ends_on": "2031-03-31", "reason": "Intempéries"})
    assert opened.status_code == 201, opened.json
    url = f"/assouplissements/{opened.json['id']}/cloture"
    one, two = create_app(rt).test_client(), create_app(rt).test_client()
    first, second = race(rt, lambda: one.post(url, json={"reason": "Fin des intempéries"}, headers=w.admin),
                         lambda: two.post(url, json={"reason": "Fin des intempéries"}, headers=w.admin))
    assert (first.status_code, second.status_code) == (200, 409), (first.json, second.json)
    assert second.json["detail"] == "Cette période est déjà close."
