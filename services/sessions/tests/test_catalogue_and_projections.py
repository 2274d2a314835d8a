"""The titres catalogue (imports, DGEFP edits, events) and the projections fed by other services' events."""
from __future__ import annotations

import json
from datetime import date

from ceres_sessions import demo
from ceres_sessions.models import Candidate, Enrolment

from .conftest import DEMO, auth, feed
from .test_session_walk import outbox

CSV = ("code;version_date;libelle;kind;level;nsf_codes;rncp;jo_date;end_of_validity;prolongation_until;ccs_of;ccps\n"
       "TP-01234;2020-05-04;Agent(e) de test;TP;4;311u 312t;RNCP100;2020-05-10;2025-05-04;;;"
       "TP-01234-CCP1:Premier bloc|TP-01234-CCP2:Second bloc\n")


def test_import_json_and_csv_publishes_then_updates_then_nothing(rt, client, issuer, catalogue):
    assert catalogue == {"publies": 5, "mis_a_jour": 0, "inchanges": 0}
    dgefp = auth(issuer, "dgefp")
    again = client.post("/titres/import", data=DEMO.read_bytes(), content_type="application/json", headers=dgefp)
    assert again.json == {"publies": 0, "mis_a_jour": 0, "inchanges": 5}
    paysage = client.get("/titres/TP-00463", headers=auth(issuer, "centre", sirets=["12345678901234"])).json[0]
    assert paysage["jo_date"] == "2018-09-26" and paysage["level"] == 3 and paysage["rncp"] == "RNCP399"
    assert paysage["nsf_codes"] == ["214r", "214s"]  # P10
    published = {e["code"] for e in outbox(rt, "titre.published")}
    assert {"TP-00463", "TP-00391", "CCS-00392"} <= published
    csv = client.post("/titres/import", data=CSV.encode(), content_type="text/csv", headers=dgefp)
    assert csv.json == {"publies": 1, "mis_a_jour": 0, "inchanges": 0}
    changed = CSV.replace("Agent(e) de test", "Agent(e) de test modifié")
    assert client.post("/titres/import", data=changed.encode(), content_type="text/csv",
                       headers=dgefp).json["mis_a_jour"] == 1
    assert outbox(rt, "titre.updated")[-1]["libelle"] == "Agent(e) de test modifié"


def test_bad_import_refused_line_by_line_nothing_written(client, issuer, catalogue):
    dgefp = auth(issuer, "dgefp")
    rows = [{"code": "TP-05555", "version_date": "2021-01-01", "libelle": "Bon", "kind": "TP", "level": 4,
             "nsf_codes": ["200"]},
            {"code": "TP-5", "version_date": "2021-13-01", "libelle": "", "kind": "TP", "level": 9,
             "nsf_codes": []}]
    bad = client.post("/titres/import", data=json.dumps(rows), content_type="application/json", headers=dgefp)
    assert bad.status_code == 422
    assert bad.json["detail"] == "Le fichier contient des titres invalides ; aucun titre n'a été importé."
    assert set(bad.json["errors"]) == {"ligne 2"}
    assert bad.json["errors"]["ligne 2"]["level"] == ["Niveau entre 3 et 8."]
    assert bad.json["errors"]["ligne 2"]["version_date"] == ["Date invalide (format attendu : AAAA-MM-JJ)."]
    assert client.get("/titres/TP-05555", headers=dgefp).status_code == 404
    assert client.post("/titres/import", data=b"x", content_type="text/plain", headers=dgefp).status_code == 415
    assert client.post("/titres/import", data=json.dumps(rows), content_type="application/json",
                       headers=auth(issuer, "ud", departements=["01"])).status_code == 403


def test_dgefp_edits_a_version_traced_and_published(rt, client, issuer, catalogue):
    dgefp = auth(issuer, "dgefp")
    url = "/titres/TP-00391/versions/2011-03-16"
    bad = client.patch(url, json={"prolongation_until": "2020-01-01"}, headers=dgefp)
    assert bad.status_code == 422
    assert bad.json["errors"] == {"prolongation_until": ["La prolongation suit la fin de validité."]}
    ok = client.patch(url, json={"prolongation_until": "2027-09-16"}, headers=dgefp)
    assert ok.status_code == 200 and ok.json["prolongation_until"] == "2027-09-16"
    assert outbox(rt, "titre.updated")[-1]["prolongation_until"] == "2027-09-16"
    history = client.get("/history/titre/TP-00391@2011-03-16", headers=dgefp).json
    assert history[-1]["changes"]["prolongation_until"] == [None, "2027-09-16"]
    assert client.patch(url, json={"level": 4}, headers=auth(issuer, "ud", departements=["01"])).status_code == 403
    client.patch(url, json={"prolongation_until": None}, headers=dgefp)


def test_candidate_merged_moves_enrolments(rt, world, frozen):
    w = world()
    frozen(2024, 1, 15)
    sid = w.session(starts_on=date(2024, 6, 3))["id"]
    keep, merged = w.candidate("MARTIN"), w.candidate("MARTIN")
    w.post(sid, "candidats", w.centre, {"candidate_id": merged})
    feed(rt, "candidate.merged", {"surviving_id": keep, "merged_id": merged})
    with rt.session_factory() as session:
        assert session.get(Enrolment, (sid, keep)) is not None and session.get(Enrolment, (sid, merged)) is None
        assert session.get(Candidate, merged).merged_into == keep
    refused = w.post(sid, "candidats", w.centre, {"candidate_id": merged})
    assert refused.json["errors"] == {"candidate_id": [f"Ce dossier a été fusionné : utilisez le numéro {keep}."]}


def test_site_transferred_rehomes_sessions_with_audit(rt, world, frozen, issuer):
    w, target = world(), world()
    frozen(2024, 1, 15)
    sid = w.session(starts_on=date(2024, 6, 3))["id"]
    feed(rt, "site.transferred", {"site_id": w.site_id, "from_centre_id": w.centre_id,
                                  "to_centre_id": target.centre_id, "by": "dreets:agent-1",
                                  "at": "2024-01-15T10:00:00+00:00"})
    assert w.client.get(f"/sessions/{sid}", headers=w.centre).status_code == 404
    moved = w.client.get(f"/sessions/{sid}", headers=target.centre).json
    assert moved["centre_id"] == target.centre_id
    trace = w.client.get(f"/history/session/{sid}", headers=w.ud).json[-1]
    assert trace["action"] == "site_transferred" and trace["actor"] == "dreets:agent-1"
    assert trace["changes"] == {"centre_id": [w.centre_id, target.centre_id]}


def test_demo_seed_is_idempotent_and_waits_for_sites(rt, world):
    demo.seed(rt)  # titres already there; sites of other tests without agrément-covered dates are skipped quietly
    demo.seed(rt)
    with rt.session_factory() as session:
        from sqlalchemy import func, select

        from ceres_sessions.models import ExamSession, Titre

        assert session.scalar(select(func.count()).select_from(Titre).where(Titre.code == "TP-00463")) == 1
        from ceres_sessions.models import Jure

        jures = session.scalar(select(func.count()).select_from(Jure))
        seeded_sessions = session.scalar(select(func.count()).select_from(ExamSession).where(
            ExamSession.created_by.like("centre:demo%")))
    # Sessions are played by the DemoSeeder worker once the sites' events have arrived (tests/test_demo_platform.py);
    # seed() itself only loads the catalogue and the jurés, once.
    assert seeded_sessions == 0
    demo.seed(rt)
    with rt.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Jure)) == jures > 0
