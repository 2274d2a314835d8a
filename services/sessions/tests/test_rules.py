"""Rules S4–S9, B2 and S10 over HTTP on the real database, with a fixed clock."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from ceres_sessions.models import MassOperation, Transition
from ceres_sessions.service_layer import dashboard, mass

from .conftest import auth
from .test_session_walk import make_jure, outbox


def test_S4_late_dte_refused_zero_candidates_allowed_relaxation_recorded_and_shown(rt, world, frozen):
    w = world()
    frozen(2024, 1, 15)
    s = w.session(starts_on=date(2024, 3, 1))
    late = w.post(s["id"], "demande-dte", w.centre, {"candidate_count": 0})
    assert late.status_code == 409
    assert "au moins 3 mois avant le début de la session (au plus tard le 01/12/2023)" in late.json["detail"]
    assert w.client.get(f"/sessions/{s['id']}", headers=w.centre).json["status"] == "en_preparation"
    bad = w.client.post("/assouplissements", json={"starts_on": "2024-01-20", "ends_on": "2024-01-10",
                                                   "reason": "x"}, headers=w.admin)
    assert bad.status_code == 422 and "ends_on" in bad.json["errors"]
    assert w.client.post("/assouplissements", json={"starts_on": "2024-01-10", "ends_on": "2024-03-10",
                                                    "reason": "Reprise VALCE"}, headers=w.ud).status_code == 403
    opened = w.client.post("/assouplissements", json={"starts_on": "2024-01-10", "ends_on": "2024-03-10",
                                                      "reason": "Reprise des opérations VALCE"}, headers=w.admin)
    assert opened.status_code == 201
    relaxed = w.post(s["id"], "demande-dte", w.centre, {"candidate_count": 0})
    assert relaxed.status_code == 200, relaxed.json
    assert relaxed.json["dte_candidate_count"] == 0 and relaxed.json["under_relaxation"] is True
    shown = w.client.get(f"/sessions/{s['id']}", headers=w.ud).json
    step = [h for h in shown["historique"] if h["action"] == "demander_dte"][0]
    assert step["assouplissement"] == opened.json["id"] and "Délai levé" in step["reason"]
    assert dashboard.dashboard  # the UD's dashboard counts it too
    board = w.client.get("/tableau-de-bord", headers=w.ud).json
    assert board["sessions_sous_assouplissement"] >= 1
    frozen(2024, 4, 1)  # relaxation over: convocations one month ahead are enforced again
    convoc = w.post(s["id"], "convocations", w.centre)
    assert convoc.status_code == 409 and "au moins 1 mois" in convoc.json["detail"]


def test_S5_dates_edits_and_postponement(world, frozen):
    w = world()
    frozen(2024, 1, 15)
    s = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 4))
    moved = w.client.patch(f"/sessions/{s['id']}/dates", json={"starts_at": "2024-06-10T08:00:00+02:00",
                                                               "ends_at": "2024-06-11T17:00:00+02:00"},
                           headers=w.centre)
    assert moved.status_code == 200, moved.json
    assert moved.json["starts_at"] == "2024-06-10T08:00:00+02:00"
    assert moved.json["convocation_at"] == "2024-06-10T08:00:00+02:00"  # follows the start
    wrong = w.client.patch(f"/sessions/{s['id']}/dates", json={"ends_at": "2024-06-01T17:00:00+02:00"},
                           headers=w.centre)
    assert wrong.status_code == 409 and "ne peut pas précéder" in wrong.json["detail"]
    w.post(s["id"], "demande-dte", w.centre, {"candidate_count": 0})
    frozen_edit = w.client.patch(f"/sessions/{s['id']}/dates", json={"starts_at": "2024-06-12T08:00:00+02:00"},
                                 headers=w.centre)
    assert frozen_edit.status_code == 409
    assert frozen_edit.json["detail"] == ("Impossible de modifier les dates de la session : la session est "
                                          "« demande de DTE envoyée ».")
    body = {"starts_at": "2024-09-02T08:00:00+02:00", "ends_at": "2024-09-03T17:00:00+02:00",
            "reason": "Demande du centre"}
    assert w.client.post(f"/sessions/{s['id']}/report", json=body, headers=w.centre).status_code == 403
    assert w.client.post(f"/sessions/{s['id']}/report", json=body, headers=w.other_ud).status_code == 404
    report = w.client.post(f"/sessions/{s['id']}/report", json=body, headers=w.ud)
    assert report.status_code == 200, report.json
    assert report.json["status"] == "demande_dte_envoyee" and report.json["starts_at"].startswith("2024-09-02")
    frozen(2024, 9, 2)
    started = w.client.post(f"/sessions/{s['id']}/report", json={**body, "starts_at": "2024-10-01T08:00:00+02:00",
                                                                 "ends_at": "2024-10-02T08:00:00+02:00"},
                            headers=w.ud)
    assert started.status_code == 409 and "déjà commencé" in started.json["detail"]


def _convoked(w, frozen, **kw):
    frozen(2024, 1, 15)
    s = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 5), **kw)
    w.post(s["id"], "demande-dte", w.centre, {"candidate_count": 0})
    frozen(2024, 4, 1)
    assert w.post(s["id"], "convocations", w.centre).status_code == 200
    return s["id"]


def test_S6_results_need_the_real_end_date(world, frozen):
    w = world()
    sid = _convoked(w, frozen)
    c = w.candidate()
    frozen(2024, 4, 2)
    assert w.post(sid, "candidats", w.centre, {"candidate_id": c}).status_code == 201
    for nom in ("A", "B"):
        w.post(sid, "jury", w.centre, {"jure_id": make_jure(w, nom=nom)})
    frozen(2024, 6, 6)
    view = w.client.get(f"/sessions/{sid}", headers=w.centre).json
    assert len(view["alertes"]) == 2  # the two reminders
    early = w.client.put(f"/sessions/{sid}/resultats", json={"results": [{"candidate_id": c, "decision": "titre"}]},
                         headers=w.centre)
    assert early.status_code == 409
    assert early.json["detail"] == ("Impossible de saisir les résultats : Saisissez la date réelle de fin de "
                                    "session avant de saisir les résultats.")
    assert w.client.get(f"/sessions/{sid}", headers=w.centre).json["candidats"][0]["decision"] is None
    future = w.post(sid, "date-fin-reelle", w.centre, {"real_end_date": "2024-07-01"})
    assert future.status_code == 409 and "futur" in future.json["detail"]
    before = w.post(sid, "date-fin-reelle", w.centre, {"real_end_date": "2024-05-01"})
    assert "précéder la date de début" in before.json["detail"]
    assert w.post(sid, "date-fin-reelle", w.centre, {"real_end_date": "2024-06-05"}).status_code == 200


def test_S7_jury_habilitation_extension_conflicts_and_minimum(rt, world, frozen):
    w = world(titre="TP-00391", agrement=(date(2015, 1, 1), date(2026, 3, 16)))
    # TP-00391 ends on 16/03/2026: a session in 2027 is in the prolongation (12 months).
    frozen(2026, 1, 10)
    s = w.session(titre_code="TP-00391", starts_on=date(2026, 9, 1), ends_on=date(2026, 9, 3))
    sid = s["id"]
    extended = make_jure(w, titre="TP-00391", until="2026-03-16", nom="ETENDU")  # S7: +24 months
    short = make_jure(w, titre="TP-00391", until="2026-01-31", nom="COURT")  # ends before the titre: no extension
    other = make_jure(w, titre="TP-00463", nom="AUTRE")
    view = w.client.get(f"/jures/{extended}", headers=w.ud).json
    assert view["habilitations"][0]["valid_until"] == "2026-03-16"  # the screen shows the original end
    assert view["habilitations"][0]["effective_until"] == "2028-03-16"
    listed = {j["id"] for j in w.client.get(f"/sessions/{sid}/jures-a-convoquer", headers=w.centre).json}
    assert extended in listed and short not in listed and other not in listed
    refused = w.post(sid, "jury", w.centre, {"jure_id": short})
    assert refused.status_code == 409
    assert refused.json["detail"] == ("Claire COURT n'est pas habilité(e) pour le titre TP-00391 sur toute la "
                                      "durée de la session.")
    assert w.post(sid, "jury", w.centre, {"jure_id": extended}).status_code == 201
    c = w.candidate()
    assert w.post(sid, "candidats", w.centre, {"candidate_id": c}).status_code == 201
    second = make_jure(w, titre="TP-00391", until="2027-01-01", nom="CONFLIT")
    w.client.post(f"/jures/{second}/conflits", json={"candidate_id": c, "nature": "formateur"}, headers=w.ud)
    conflict = w.post(sid, "jury", w.centre, {"jure_id": second})
    assert conflict.status_code == 409 and "conflit d'intérêts" in conflict.json["detail"]
    assert second not in {j["id"] for j in w.client.get(f"/sessions/{sid}/jures-a-convoquer",
                                                        headers=w.centre).json}
    w.post(sid, "demande-dte", w.centre, {"candidate_count": 1})
    frozen(2026, 7, 1)
    w.post(sid, "convocations", w.centre)
    frozen(2026, 9, 4)
    w.post(sid, "date-fin-reelle", w.centre, {"real_end_date": "2026-09-03"})
    alone = w.client.put(f"/sessions/{sid}/resultats", json={"results": [{"candidate_id": c, "decision": "titre"}]},
                         headers=w.centre)
    assert alone.status_code == 409
    assert "Le jury doit compter au moins 2 jurés habilités (actuellement 1)." in alone.json["detail"]
    history = w.client.get(f"/history/jure/{extended}", headers=w.ud).json
    assert [h["action"] for h in history] == ["create", "habilitation"]


def test_S8_results_checked_per_candidate_then_ud_validates_or_annuls(rt, world, frozen):
    w = world()
    sid = _convoked(w, frozen)
    c1, c2, c3 = w.candidate(), w.candidate(), w.candidate()
    for c in (c1, c2, c3):
        w.post(sid, "candidats", w.centre, {"candidate_id": c})
    assert w.client.delete(f"/sessions/{sid}/candidats/{c3}", headers=w.centre).status_code == 200
    assert w.post(sid, f"candidats/{c2}/absence", w.centre).status_code == 200
    for nom in ("A", "B"):
        w.post(sid, "jury", w.centre, {"jure_id": make_jure(w, nom=nom)})
    frozen(2024, 6, 6)
    w.post(sid, "date-fin-reelle", w.centre, {"real_end_date": "2024-06-05"})
    bad = w.client.put(f"/sessions/{sid}/resultats", headers=w.centre, json={"results": [
        {"candidate_id": c1, "decision": "partiel", "ccps_obtained": ["CCP-INCONNU"]},
        {"candidate_id": c2, "decision": "titre"}, {"candidate_id": c3, "decision": "titre"}]})
    assert bad.status_code == 422
    assert bad.json["errors"]["results"] == {
        "0": {"decision": ["CCP inconnus pour ce titre : CCP-INCONNU."]},
        "1": {"decision": ["Ce candidat a été marqué absent."]},
        "2": {"decision": ["Ce candidat n'est pas inscrit à la session."]}}
    missing = w.client.put(f"/sessions/{sid}/resultats", headers=w.centre,
                           json={"results": [{"candidate_id": c1, "decision": "ajourne"}]})
    assert missing.status_code == 409 and "Il manque la décision du jury pour 1 candidat(s)." in missing.json["detail"]
    assert w.client.get(f"/sessions/{sid}", headers=w.centre).json["status"] == "convocations_envoyees"
    ok = w.client.put(f"/sessions/{sid}/resultats", headers=w.centre, json={"results": [
        {"candidate_id": c1, "decision": "ajourne"}, {"candidate_id": c2, "decision": "absent"}]})
    assert ok.status_code == 200 and ok.json["status"] == "resultats_saisis"
    assert w.post(sid, "annulation", w.ud, {}).json["detail"].endswith("Le motif est obligatoire.")
    cancelled = w.post(sid, "annulation", w.ud, {"reason": "Jury irrégulier"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "annulee"
    assert any(e["session_id"] == sid and e["reason"] == "Jury irrégulier" for e in outbox(rt, "session.cancelled"))
    again = w.post(sid, "validation", w.ud)
    assert again.status_code == 409 and again.json["detail"].endswith("la session est « annulée ».")


def test_S9_mass_operations_dry_run_then_traced_apply_with_progress(rt, world, frozen, issuer):
    w = world(dep="02", region="32")
    frozen(2024, 1, 15)
    ids = [w.session(starts_on=date(2027, 3, d), ends_on=date(2027, 3, d))["id"] for d in (2, 3, 4)]
    done = w.session(starts_on=date(2027, 3, 5))["id"]
    w.post(done, "annulation", w.ud, {"reason": "doublon"})
    criteria = {"statuses": ["en_preparation"], "starts_from": "2027-03-01", "starts_to": "2027-03-31"}
    assert w.client.post("/operations-masse/apercu", json=criteria, headers=w.ud).status_code == 403
    bad = w.client.post("/operations-masse/apercu", json={**criteria, "starts_to": "2027-02-01"}, headers=w.admin)
    assert bad.status_code == 422 and bad.json["errors"]["starts_to"]
    preview = w.client.post("/operations-masse/apercu", json=criteria, headers=w.admin).json
    assert preview["total"] == 3 and {s["id"] for s in preview["sessions"]} == set(ids)
    assert w.client.get(f"/sessions/{ids[0]}", headers=w.ud).json["status"] == "en_preparation"  # dry run
    no_date = w.client.post("/operations-masse", json={"criteria": criteria, "action": "deplacer_date_fin",
                                                       "reason": "Confinement"}, headers=w.admin)
    assert no_date.json["errors"] == {"new_end_date": ["La nouvelle date de fin est obligatoire."]}
    moved = w.client.post("/operations-masse", json={"criteria": criteria, "action": "deplacer_date_fin",
                                                     "new_end_date": "2027-08-24", "reason": "Confinement"},
                          headers=w.admin)
    assert moved.status_code == 202 and moved.json["state"] == "en_attente" and moved.json["progress"] == 0
    w.post(ids[0], "annulation", w.ud, {"reason": "changé entre-temps"})  # no longer movable: skipped, traced
    mass.CHUNK, saved = 2, mass.CHUNK
    try:
        assert mass.run_chunk(rt)
        half = w.client.get(f"/operations-masse/{moved.json['id']}", headers=w.admin).json
        assert half["state"] == "en_cours" and half["done"] + half["skipped"] == 2
        assert mass.run_chunk(rt)
    finally:
        mass.CHUNK = saved
    final = w.client.get(f"/operations-masse/{moved.json['id']}", headers=w.admin).json
    assert (final["state"], final["done"], final["skipped"], final["progress"]) == ("terminee", 2, 1, 100.0)
    for sid in ids[1:]:
        assert w.client.get(f"/sessions/{sid}", headers=w.ud).json["ends_at"].startswith("2027-08-24")
        assert "Confinement" in w.client.get(f"/history/session/{sid}", headers=w.ud).json[-1]["reason"]
    skipped = w.client.get(f"/history/session/{ids[0]}", headers=w.ud).json[-1]
    assert skipped["action"] == "deplacer_date_fin_ignore" and "annulée" in skipped["reason"]
    cancel = w.client.post("/operations-masse", json={"criteria": criteria, "action": "annuler",
                                                      "reason": "Confinement"}, headers=w.admin)
    while mass.run_chunk(rt):
        pass
    assert w.client.get(f"/operations-masse/{cancel.json['id']}", headers=w.admin).json["done"] == 2
    assert {w.client.get(f"/sessions/{sid}", headers=w.ud).json["status"] for sid in ids} == {"annulee"}
    with rt.session_factory() as session:
        assert session.scalars(select(Transition.actor_role).where(Transition.session_id == ids[1],
                                                                   Transition.action == "annuler")).one() == "admin"
        assert session.get(MassOperation, cancel.json["id"]).finished_at is not None


def test_S10_dashboard_counts_per_scope_and_B2_warnings(rt, world, frozen, issuer):
    here, there = world(dep="03", region="84"), world(dep="04", region="93")
    frozen(2024, 1, 15)
    for _ in range(2):
        here.session(starts_on=date(2024, 4, 20))  # DTE due 20/01/2024: within the horizon
    there.session(starts_on=date(2024, 9, 1))
    ud = here.client.get("/tableau-de-bord", headers=here.ud).json
    counts = {c["status"]: c["count"] for c in ud["par_statut"]}
    assert counts["en_preparation"] == 2 and sum(counts.values()) == 2
    liste = [c["liste"] for c in ud["par_statut"] if c["status"] == "en_preparation"][0]
    opened = here.client.get(liste, headers=here.ud).json
    assert opened["total"] == 2
    assert {c["status"]: c["count"] for c in here.client.get("/tableau-de-bord", headers=there.ud)
            .json["par_statut"]}["en_preparation"] == 1
    centre = {c["status"]: c["count"] for c in here.client.get("/tableau-de-bord", headers=here.centre)
              .json["par_statut"]}
    assert centre["en_preparation"] == 2
    national = {c["status"]: c["count"] for c in here.client.get("/tableau-de-bord", headers=here.dgefp)
                .json["par_statut"]}
    assert national["en_preparation"] >= 3
    assert dashboard.scan(rt) >= 2
    assert dashboard.scan(rt) == 0  # raised once
    warned = [e for e in outbox(rt, "session.deadline_approaching") if e["deadline"] == "dte"]
    assert {e["due_date"] for e in warned} >= {"2024-01-20"}
    alerts = here.client.get("/tableau-de-bord", headers=here.ud).json["alertes"]
    assert any(a["kind"] == "dte" and "au plus tard le 20/01/2024" in a["message"] for a in alerts)
    assert not any(a["kind"] == "dte" and a["session_id"] for a in
                   here.client.get("/tableau-de-bord", headers=there.ud).json["alertes"]
                   if a["due_date"] == "2024-01-20")
