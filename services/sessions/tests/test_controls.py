"""S10 « suivi des contrôles », S4 closing a relaxation period, and the session's history with its candidates'
changes: over HTTP on the real database, with a fixed clock."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ceres_sessions.models import Control, Relaxation
from ceres_sessions.service_layer.sessions import open_relaxation

from .test_rules import _convoked


def _controls(w) -> int:
    with w.rt.session_factory() as session:
        return session.scalar(select(func.count()).select_from(Control).where(Control.departement == w.dep))


def _plan(w, sid, who, kind="sur_place", planned_on="2024-06-04"):
    return w.client.post(f"/sessions/{sid}/controles", json={"kind": kind, "planned_on": planned_on}, headers=who)


def test_S10_an_agent_plans_a_control_within_the_session_and_its_territory(world, frozen):
    w = world(dep="21", region="27")
    sid = _convoked(w, frozen)  # session from 3 to 5 June 2024, today 1 April
    late = _plan(w, sid, w.ud, planned_on="2024-06-06")
    assert late.status_code == 422
    assert late.json["errors"]["planned_on"] == ["Un contrôle sur place a lieu pendant la session, du 03/06/2024 "
                                                 "au 05/06/2024."]
    early = _plan(w, sid, w.ud, kind="sur_pieces", planned_on="2024-06-02")
    assert early.status_code == 422 and "ne peut pas précéder le début" in early.json["errors"]["planned_on"][0]
    bad = _plan(w, sid, w.ud, kind="inopine")
    assert bad.status_code == 422 and bad.json["errors"]["kind"] == ["Choisissez : sur place ou sur pièces."]
    # I4: another territory's UD does not see the session; a centre and DGEFP may not plan.
    assert _plan(w, sid, w.other_ud).status_code == 404
    assert _plan(w, sid, w.centre).status_code == 403
    assert _plan(w, sid, w.dgefp).status_code == 403
    assert _controls(w) == 0  # nothing half-written by the refusals

    planned = _plan(w, sid, w.ud)
    assert planned.status_code == 201, planned.json
    assert planned.json["status"] == "programme" and planned.json["kind_label"] == "sur place"
    assert _plan(w, sid, w.dreets, kind="sur_pieces", planned_on="2024-06-20").status_code == 201
    assert _controls(w) == 2

    # The agents see the controls and their trail; the centre sees neither.
    agent_view = w.client.get(f"/sessions/{sid}", headers=w.ud).json
    assert [c["planned_on"] for c in agent_view["controles"]] == ["2024-06-04", "2024-06-20"]
    planned_steps = [h for h in agent_view["historique"] if h["action"] == "controle_programme"]
    assert [h["sujet"] for h in planned_steps] == ["contrôle sur place du 04/06/2024",
                                                   "contrôle sur pièces du 20/06/2024"]
    centre_view = w.client.get(f"/sessions/{sid}", headers=w.centre).json
    assert "controles" not in centre_view
    assert not [h for h in centre_view["historique"] if h["action"].startswith("controle")]
    assert w.client.get("/controles", headers=w.centre).status_code == 403


def test_S10_outcome_after_the_date_cancel_and_the_dashboard_counts(world, frozen):
    w = world(dep="22", region="53")
    sid = _convoked(w, frozen)
    on_site = _plan(w, sid, w.ud).json["id"]
    on_paper = _plan(w, sid, w.ud, kind="sur_pieces", planned_on="2024-06-10").json["id"]
    dropped = _plan(w, sid, w.ud, kind="sur_pieces", planned_on="2024-06-12").json["id"]

    too_soon = w.client.post(f"/controles/{on_site}/resultat", json={"outcome": "conforme"}, headers=w.ud)
    assert too_soon.status_code == 409
    assert too_soon.json["detail"] == "Le contrôle est prévu le 04/06/2024 : son résultat se saisit ensuite."

    frozen(2024, 6, 11)
    unexplained = w.client.post(f"/controles/{on_site}/resultat", json={"outcome": "non_conforme"}, headers=w.ud)
    assert unexplained.status_code == 422 and "obligatoire sauf si le contrôle est conforme" in \
        unexplained.json["errors"]["observations"][0]
    assert w.client.post(f"/controles/{on_site}/resultat", json={"outcome": "conforme"},
                         headers=w.other_ud).status_code == 404  # I4
    done = w.client.post(f"/controles/{on_site}/resultat", headers=w.ud,
                         json={"outcome": "non_conforme", "observations": "Plateau technique incomplet."})
    assert done.status_code == 200, done.json
    assert (done.json["status"], done.json["outcome_label"], done.json["done_on"]) == (
        "realise", "non conforme", "2024-06-11")
    again = w.client.post(f"/controles/{on_site}/resultat", json={"outcome": "conforme"}, headers=w.ud)
    assert again.status_code == 409 and again.json["detail"] == "Ce contrôle est déjà réalisé."
    no_reason = w.client.post(f"/controles/{dropped}/annulation", json={"reason": ""}, headers=w.ud)
    assert no_reason.status_code == 422 and no_reason.json["errors"]["reason"]
    assert w.client.post(f"/controles/{dropped}/annulation", json={"reason": "Session déplacée"},
                         headers=w.ud).json["status"] == "annule"

    frozen(2024, 6, 20)  # the control on paper is now overdue
    board = w.client.get("/tableau-de-bord", headers=w.ud).json["controles"]
    assert board == {"programmes": 0, "en_retard": 1, "realises": 1, "non_conformes": 1}
    assert w.client.get("/tableau-de-bord", headers=w.other_ud).json["controles"] == {
        "programmes": 0, "en_retard": 0, "realises": 0, "non_conformes": 0}
    assert "controles" not in w.client.get("/tableau-de-bord", headers=w.centre).json
    overdue = w.client.get("/controles", query_string={"vue": "en_retard"}, headers=w.ud)
    assert overdue.headers["X-Total-Count"] == "1"
    assert [c["id"] for c in overdue.json["controles"]] == [on_paper]
    assert overdue.json["controles"][0]["en_retard"] and overdue.json["controles"][0]["session_public_id"]
    failing = w.client.get("/controles", query_string={"vue": "non_conformes"}, headers=w.dgefp).json
    assert on_site in [c["id"] for c in failing["controles"]]
    # Every change is on the session's trail: who, when, before/after.
    trail = w.client.get(f"/history/session/{sid}", headers=w.ud).json
    outcome = next(row for row in trail if row["action"] == "controle_realise")
    assert outcome["changes"]["outcome"] == [None, "non_conforme"] and outcome["actor_role"] == "ud"
    shown = {h["action"]: h["sujet"] for h in w.client.get(f"/sessions/{sid}", headers=w.ud).json["historique"]
             if h["action"].startswith("controle")}
    assert shown == {"controle_programme": "contrôle sur pièces du 12/06/2024",  # the last one of each action
                     "controle_realise": "contrôle sur place du 04/06/2024",
                     "controle_annule": "contrôle sur pièces du 12/06/2024"}


def test_S4_an_administrator_closes_a_relaxation_period_early(world, frozen, client):
    w = world(dep="23", region="75")
    frozen(2024, 3, 10)
    opened = client.post("/assouplissements", headers=w.admin,
                         json={"starts_on": "2024-03-01", "ends_on": "2024-04-30", "reason": "Confinement"}).json
    future = client.post("/assouplissements", headers=w.admin,
                         json={"starts_on": "2024-05-01", "ends_on": "2024-05-31", "reason": "Grève"}).json
    assert opened["state"] == "en_cours" and future["state"] == "a_venir"
    with w.rt.session_factory() as session:
        assert open_relaxation(session, date(2024, 3, 10)).id == opened["id"]

    assert client.post(f"/assouplissements/{opened['id']}/cloture", json={"reason": "Fin"},
                       headers=w.ud).status_code == 403
    missing = client.post(f"/assouplissements/{opened['id']}/cloture", json={}, headers=w.admin)
    assert missing.status_code == 422 and missing.json["errors"]["reason"] == ["Ce champ est obligatoire."]
    closed = client.post(f"/assouplissements/{opened['id']}/cloture", json={"reason": "Fin du confinement"},
                         headers=w.admin)
    assert closed.status_code == 200, closed.json
    assert (closed.json["state"], closed.json["ends_on"], closed.json["closure_reason"]) == (
        "close", "2024-03-09", "Fin du confinement")  # it applied until yesterday
    assert client.post(f"/assouplissements/{opened['id']}/cloture", json={"reason": "x"},
                       headers=w.admin).json["detail"] == "Cette période est déjà close."
    withdrawn = client.post(f"/assouplissements/{future['id']}/cloture", json={"reason": "Grève levée"},
                            headers=w.admin).json
    assert withdrawn["ends_on"] == "2024-05-31" and withdrawn["state"] == "close"
    with w.rt.session_factory() as session:
        assert open_relaxation(session, date(2024, 3, 10)) is None
        assert open_relaxation(session, date(2024, 5, 15)) is None  # withdrawn before it started
        assert session.get(Relaxation, opened["id"]).closed_by.startswith("admin")
    assert client.get(f"/assouplissements/{opened['id']}", headers=w.ud).json == closed.json  # read by agents
    assert client.get("/assouplissements/999999", headers=w.admin).status_code == 404
    trail = client.get(f"/history/relaxation/{opened['id']}", headers=w.admin).json
    assert trail[-1]["action"] == "close" and trail[-1]["changes"]["ends_on"] == ["2024-04-30", "2024-03-09"]


def test_the_session_history_shows_enrolments_withdrawals_and_absences(world, frozen):
    w = world(dep="24", region="75")
    sid = _convoked(w, frozen)
    stays, leaves = w.candidate("MARTIN"), w.candidate("BERNARD")
    frozen(2024, 4, 2)
    for cid in (stays, leaves):
        assert w.post(sid, "candidats", w.centre, {"candidate_id": cid}).status_code == 201
    assert w.client.delete(f"/sessions/{sid}/candidats/{leaves}", headers=w.centre).status_code == 200
    frozen(2024, 6, 4)
    assert w.post(sid, f"candidats/{stays}/absence", w.centre).status_code == 200
    history = w.client.get(f"/sessions/{sid}", headers=w.centre).json["historique"]
    assert [h["action"] for h in history] == ["creer", "demander_dte", "envoyer_convocations", "inscrire_candidat",
                                              "inscrire_candidat", "retirer_candidat", "marquer_absent"]
    assert history[5]["sujet"] == f"BERNARD Marie (n° {leaves})"
    assert history[6]["sujet"] == f"MARTIN Marie (n° {stays})" and history[6]["role"] == "centre"
