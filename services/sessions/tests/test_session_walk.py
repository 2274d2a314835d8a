"""A session from creation to `validée` then `finalisée`, each role doing its part over HTTP (S1–S8), and the
creation rules S1 and S2."""
from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy import select

from ceres_sessions.models import Transition

from .conftest import auth


def outbox(rt, event_type: str) -> list[dict]:
    t = rt.tables.outbox
    with rt.engine.connect() as conn:
        rows = conn.execute(select(t.c.body).where(t.c.event_type == event_type).order_by(t.c.id)).scalars()
        return [json.loads(r)["payload"] for r in rows]


def make_jure(w, titre="TP-00463", until="2026-01-01", nom="MARTIN") -> str:
    created = w.client.post("/jures", json={"civilite": "Mme", "nom": nom, "prenom": "Claire", "departement": w.dep,
                                            "region": w.region}, headers=w.ud)
    assert created.status_code == 201, created.json
    jure_id = created.json["id"]
    hab = w.client.post(f"/jures/{jure_id}/habilitations", json={"titre_code": titre, "valid_from": "2020-01-01",
                                                                 "valid_until": until}, headers=w.ud)
    assert hab.status_code == 201, hab.json
    return jure_id


def walk_to_validee(w, frozen) -> tuple[str, int, int]:
    """Creation by the centre ... validation by the UD; returns the session id and its two candidates."""
    frozen(2024, 1, 15)
    s = w.session(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 5))
    sid = s["id"]
    assert s["status"] == "en_preparation" and s["status_label"] == "en préparation"
    c1, c2 = w.candidate("DURAND"), w.candidate("PETIT")
    for cid in (c1, c2):
        assert w.post(sid, "candidats", w.centre, {"candidate_id": cid}).status_code == 201
    dte = w.post(sid, "demande-dte", w.centre, {"candidate_count": 2})
    assert dte.status_code == 200, dte.json
    assert dte.json["status"] == "demande_dte_envoyee" and dte.json["dte_candidate_count"] == 2
    frozen(2024, 4, 1)
    assert w.post(sid, "convocations", w.centre).json["status"] == "convocations_envoyees"
    for nom in ("MARTIN", "BERNARD"):
        assert w.post(sid, "jury", w.centre, {"jure_id": make_jure(w, nom=nom)}).status_code == 201
    frozen(2024, 6, 6)
    assert w.post(sid, "date-fin-reelle", w.centre, {"real_end_date": "2024-06-05"}).status_code == 200
    results = w.client.put(f"/sessions/{sid}/resultats", headers=w.centre, json={"results": [
        {"candidate_id": c1, "decision": "titre"},
        {"candidate_id": c2, "decision": "partiel", "ccps_obtained": ["TP-00463-CCP1"]}]})
    assert results.status_code == 200, results.json
    assert results.json["status"] == "resultats_saisis"
    assert "valider" not in results.json["actions"]  # the centre cannot validate (S8)
    assert w.post(sid, "validation", w.centre).status_code == 403
    validated = w.post(sid, "validation", w.ud)
    assert validated.status_code == 200, validated.json
    assert validated.json["status"] == "validee"
    return sid, c1, c2


def test_walk_from_creation_to_validee_each_role_its_step(rt, world, frozen):
    w = world()
    sid, c1, c2 = walk_to_validee(w, frozen)
    assert w.post(sid, "finalisation", w.centre).status_code == 403
    assert w.post(sid, "finalisation", w.service).json["status"] == "finalisee"

    event = [e for e in outbox(rt, "session.validated") if e["session_id"] == sid][0]
    assert event["titre_code"] == "TP-00463" and event["titre_version"] == "2018-09-20"
    assert event["site_commune_code"] == f"{w.dep}053" and event["ends_on"] == "2024-06-05"
    assert sorted((r["candidate_id"], r["decision"], tuple(r["ccps_obtained"])) for r in event["results"]) == sorted(
        [(c1, "titre", ("TP-00463-CCP1", "TP-00463-CCP2")), (c2, "partiel", ("TP-00463-CCP1",))])
    changes = [e for e in outbox(rt, "session.status_changed") if e["session_id"] == sid]
    assert [(e["previous_status"], e["status"]) for e in changes] == [
        ("en_preparation", "demande_dte_envoyee"), ("demande_dte_envoyee", "convocations_envoyees"),
        ("convocations_envoyees", "resultats_saisis"), ("resultats_saisis", "validee"), ("validee", "finalisee")]
    with rt.session_factory() as session:
        steps = session.scalars(select(Transition).where(Transition.session_id == sid).order_by(Transition.id)).all()
    walked = [(t.action, t.from_status, t.to_status, t.actor_role) for t in steps if t.from_status != t.to_status]
    assert walked == [("creer", None, "en_preparation", "centre"),
                      ("demander_dte", "en_preparation", "demande_dte_envoyee", "centre"),
                      ("envoyer_convocations", "demande_dte_envoyee", "convocations_envoyees", "centre"),
                      ("saisir_resultats", "convocations_envoyees", "resultats_saisis", "centre"),
                      ("valider", "resultats_saisis", "validee", "ud"),
                      ("finaliser", "validee", "finalisee", "service")]
    assert all(t.actor and t.at for t in steps)


def test_S2_defaults_at_eight_paris_and_public_id(world, frozen):
    w = world()
    frozen(2024, 1, 15, hour=14)  # created in the afternoon
    s = w.session()
    assert s["starts_at"] == "2024-01-15T08:00:00+01:00"
    assert s["convocation_at"] == "2024-01-15T08:00:00+01:00"
    frozen(2024, 7, 1)
    summer = w.session(starts_on=date(2024, 10, 1))
    assert summer["starts_at"] == "2024-10-01T08:00:00+02:00"
    assert re.fullmatch(r"TITRE_B_2024_\d{6}", s["public_id"])
    assert s["public_id"] != summer["public_id"]


def test_S1_refused_without_agrement_or_outside_its_period(world, frozen):
    frozen(2024, 1, 15)
    none = world(agrement=None).create(starts_on=date(2024, 6, 3))
    assert none.status_code == 409
    assert none.json["detail"] == "Ce site ne détient pas d'agrément valide pour le titre TP-00463."
    short = world(agrement=(date(2020, 1, 1), date(2024, 5, 31))).create(starts_on=date(2024, 6, 3))
    assert short.status_code == 409
    assert short.json["detail"].startswith("La session sort de la période de l'agrément (du 01/01/2020 au 31/05/2024)")
    other = world(titre="TP-00391").create(titre_code="TP-00463", starts_on=date(2024, 6, 3))
    assert other.status_code == 409


def test_S1_prolongation_12_months_in_general_24_for_cfa_crp(world, frozen):
    # TP-00258 ended on 22/01/2019; DGEFP prolonged it until 22/01/2020 in the catalogue.
    general = world(titre="TP-00258", agrement=(date(2015, 1, 1), date(2019, 1, 22)))
    frozen(2019, 12, 1)
    assert general.create(starts_on=date(2020, 1, 10)).status_code == 201
    frozen(2020, 3, 1)
    late = general.create(starts_on=date(2020, 3, 10))
    assert late.status_code == 409
    assert late.json["detail"] == ("Le titre TP-00258 n'est plus valide depuis le 22/01/2019 et sa période de "
                                   "prolongation (12 mois pour ce centre) s'achève le 22/01/2020.")
    cfa = world(titre="TP-00258", type_centre="CFA", agrement=(date(2015, 1, 1), date(2019, 1, 22)))
    assert cfa.create(starts_on=date(2020, 3, 10)).status_code == 201
    frozen(2021, 2, 1)
    assert cfa.create(starts_on=date(2021, 2, 10)).status_code == 409
    # A site whose agrément ended before the titre's end of validity gets no prolongation.
    early = world(titre="TP-00258", type_centre="CRP", agrement=(date(2015, 1, 1), date(2018, 1, 1)))
    frozen(2019, 6, 1)
    assert early.create(starts_on=date(2019, 7, 1)).json["detail"].startswith("Ce site ne détenait pas")


def test_S1_bad_input_french_fields_and_scope(world, frozen, issuer):
    w = world()
    frozen(2024, 1, 15)
    bad = w.create(starts_on=date(2024, 6, 3), ends_on=date(2024, 6, 1))
    assert bad.status_code == 422
    assert bad.json["errors"] == {"ends_on": ["La date de fin ne peut pas précéder la date de début."]}
    past = w.create(starts_on=date(2024, 1, 2))
    assert past.json["errors"] == {"starts_on": ["La date de début ne peut pas être passée."]}
    unknown = w.create(titre_code="TP-99999")
    assert unknown.status_code == 422 and "titre_code" in unknown.json["errors"]
    missing = w.client.post("/sessions", json={"titre_code": "TP-00463"}, headers=w.centre)
    assert missing.json["errors"] == {"site_id": ["Ce champ est obligatoire."]}
    stranger = w.client.post("/sessions", json={"site_id": w.site_id, "titre_code": "TP-00463"},
                             headers=auth(issuer, "centre", sirets=["11111111111111"]))
    assert stranger.status_code == 404
    assert w.client.post("/sessions", json={"site_id": w.site_id, "titre_code": "TP-00463"},
                         headers=w.ud).status_code == 403
