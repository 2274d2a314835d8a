"""What the gateway's confirmation pages rely on: a titres import in dry run (what would change, nothing written),
a relaxation period checked without being opened (S4), a mass operation refused when its sessions are no longer
those of the preview (S9)."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import func, select

from ceres_sessions.models import MassOperation, Relaxation

from .conftest import DEMO, auth
from .test_session_walk import outbox


def test_titres_import_dry_run_says_what_would_change_and_writes_nothing(rt, client, issuer, catalogue):
    dgefp = auth(issuer, "dgefp")
    rows = json.loads(DEMO.read_text(encoding="utf-8"))
    rows[0] = {**rows[0], "libelle": "Ouvrier(ère) du paysage", "end_of_validity": "2029-09-26"}
    # A new TP and a new CCS of it, in the same file (the CCS's TP is not written yet in a dry run).
    rows.append({"code": "TP-07001", "version_date": "2024-02-01", "libelle": "Agent(e) d'essai", "kind": "TP",
                 "level": 4, "nsf_codes": ["200"]})
    rows.append({"code": "CCS-07002", "version_date": "2024-02-01", "libelle": "Complément d'essai", "kind": "CCS",
                 "level": 4, "nsf_codes": ["200"], "ccs_of": "TP-07001"})
    body = json.dumps(rows).encode()
    events_before = len(outbox(rt, "titre.published")) + len(outbox(rt, "titre.updated"))

    dry = client.post("/titres/import?dry_run=1", data=body, content_type="application/json", headers=dgefp)
    assert dry.status_code == 200
    assert {k: dry.json[k] for k in ("publies", "mis_a_jour", "inchanges")} == {
        "publies": 2, "mis_a_jour": 1, "inchanges": 4}
    plan = {t["code"]: t for t in dry.json["titres"]}
    assert plan["TP-00463"] == {"code": "TP-00463", "version_date": "2018-09-20", "libelle": "Ouvrier(ère) du paysage",
                                "change": "mis_a_jour", "fields": ["libelle", "end_of_validity"]}
    assert (plan["TP-07001"]["change"], plan["CCS-07002"]["change"], plan["TP-00391"]["change"]) == (
        "publie", "publie", "inchange")
    # Nothing written, nothing published, nothing traced.
    assert client.get("/titres/TP-07001", headers=dgefp).status_code == 404
    assert client.get("/titres/TP-00463", headers=dgefp).json[0]["libelle"] == "Ouvrier du paysage"
    assert len(outbox(rt, "titre.published")) + len(outbox(rt, "titre.updated")) == events_before
    audit = rt.tables.audit
    with rt.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(audit).where(
            audit.c.entity_id.like("TP-07001@%"))) == 0

    # The same file for real: what the dry run said.
    done = client.post("/titres/import", data=body, content_type="application/json", headers=dgefp)
    assert done.status_code == 200 and done.json == {"publies": 2, "mis_a_jour": 1, "inchanges": 4}
    assert client.get("/titres/CCS-07002", headers=dgefp).json[0]["ccs_of"] == "TP-07001"
    assert len(outbox(rt, "titre.published")) + len(outbox(rt, "titre.updated")) == events_before + 3


def test_titres_dry_run_refuses_what_the_import_refuses(client, issuer, catalogue):
    orphan = [{"code": "CCS-07100", "version_date": "2024-02-01", "libelle": "Sans TP", "kind": "CCS", "level": 4,
               "nsf_codes": ["200"], "ccs_of": "TP-99999"}]
    dry = client.post("/titres/import?dry_run=1", data=json.dumps(orphan), content_type="application/json",
                      headers=auth(issuer, "dgefp"))
    assert dry.status_code == 422
    assert dry.json["errors"] == {"CCS-07100": {"ccs_of": ["Le titre TP-99999 n'est pas au catalogue."]}}
    bad = client.post("/titres/import?dry_run=1", data=b'[{"code": "TP-1"}]', content_type="application/json",
                      headers=auth(issuer, "dgefp"))
    assert bad.status_code == 422 and "ligne 1" in bad.json["errors"]
    assert client.post("/titres/import?dry_run=1", data=json.dumps(orphan), content_type="application/json",
                       headers=auth(issuer, "ud", departements=["01"])).status_code == 403


def test_S4_relaxation_checked_in_dry_run_is_not_opened(rt, client, issuer):
    admin = auth(issuer, "admin")
    with rt.session_factory() as session:
        before = session.scalar(select(func.count()).select_from(Relaxation))
    bad = client.post("/assouplissements?dry_run=1", json={"starts_on": "2031-02-10", "ends_on": "2031-02-01",
                                                           "reason": "Intempéries"}, headers=admin)
    assert bad.status_code == 422
    assert bad.json["errors"] == {"ends_on": ["La fin de la période ne peut pas précéder son début."]}
    good = client.post("/assouplissements?dry_run=1", json={"starts_on": "2031-02-01", "ends_on": "2031-02-10",
                                                            "reason": "Intempéries"}, headers=admin)
    assert good.status_code == 200
    assert good.json == {"id": None, "starts_on": "2031-02-01", "ends_on": "2031-02-10", "reason": "Intempéries"}
    with rt.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Relaxation)) == before
    assert client.post("/assouplissements?dry_run=1", json={"starts_on": "2031-02-01", "ends_on": "2031-02-10",
                                                            "reason": "x"},
                       headers=auth(issuer, "ud", departements=["01"])).status_code == 403


def test_S9_mass_operation_refused_when_the_sessions_changed_since_the_preview(rt, world, frozen):
    w = world(dep="05", region="93")
    frozen(2024, 1, 15)
    first = w.session(starts_on=date(2027, 6, 2), ends_on=date(2027, 6, 2))["id"]
    criteria = {"statuses": ["en_preparation"], "starts_from": "2027-06-01", "starts_to": "2027-06-30"}
    preview = w.client.post("/operations-masse/apercu", json=criteria, headers=w.admin).json
    assert preview["total"] == 1 and len(preview["fingerprint"]) == 64
    w.session(starts_on=date(2027, 6, 3), ends_on=date(2027, 6, 3))  # a session more since the preview
    body = {"criteria": criteria, "action": "annuler", "reason": "Fermeture",
            "expected_fingerprint": preview["fingerprint"]}
    with rt.session_factory() as session:
        operations = session.scalar(select(func.count()).select_from(MassOperation))
    stale = w.client.post("/operations-masse", json=body, headers=w.admin)
    assert stale.status_code == 409 and stale.json["type"].endswith("selection_changed")
    assert stale.json["detail"].startswith("Les sessions concernées ont changé depuis l'aperçu")
    with rt.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(MassOperation)) == operations
    assert w.client.get(f"/sessions/{first}", headers=w.ud).json["status"] == "en_preparation"
    fresh = w.client.post("/operations-masse/apercu", json=criteria, headers=w.admin).json
    assert fresh["total"] == 2 and fresh["fingerprint"] != preview["fingerprint"]
    applied = w.client.post("/operations-masse", json={**body, "expected_fingerprint": fresh["fingerprint"]},
                            headers=w.admin)
    assert applied.status_code == 202 and applied.json["total"] == 2
