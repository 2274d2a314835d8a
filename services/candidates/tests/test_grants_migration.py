"""Revision 0003 (H2): a record a centre created before grants existed may still be enrolled by that centre — its
grant is written and `candidate.shared` is put in the outbox for the sessions service; other records get none."""
from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timezone

from sqlalchemy import text

from ceres_shared.config import BusSettings, Settings
from ceres_shared.events import validate_payload
from ceres_candidates.bootstrap import bootstrap

SIRET = "30012845100014"


def _candidate(db, nom: str, siret: str | None) -> int:
    now = datetime(2023, 5, 2, 9, tzinfo=timezone.utc)
    return db.execute(text(
        "INSERT INTO candidates (status, genre, nom_naissance, prenoms, birth_date, birth_country_code, "
        "birth_country_label, vae, nom_key, prenoms_key, nom_phon, dedup_key, created_by, created_by_siret, "
        "created_at, updated_at) VALUES ('brouillon', 'F', :nom, '[\"Anne\"]', :born, '99100', 'FRANCE', false, "
        ":nom, 'ANNE', :nom, :nom, 'centre:x', :siret, :at, :at) RETURNING id"),
        {"nom": nom, "born": date(1990, 1, 2), "siret": siret, "at": now}).scalar_one()


def test_0003_shares_the_records_centres_created_before(infra, amqp_url, issuer):
    settings = Settings(service="candidates", database_url=infra.new_database(f"cmig{uuid.uuid4().hex[:6]}"),
                        bus=BusSettings(url=amqp_url, exchange=f"c{uuid.uuid4().hex[:8]}.events"), jwks_url=None)
    rt = bootstrap(settings, jwks=issuer.jwks())
    try:
        rt.upgrade_database("0002")
        with rt.engine.begin() as db:
            by_centre, by_agent = _candidate(db, "AVANT", SIRET), _candidate(db, "AGENT", None)
        rt.upgrade_database()
        with rt.engine.connect() as db:
            grants = db.execute(text("SELECT candidate_id, siret, reason FROM candidate_grants")).all()
            events = [json.loads(body) for (body,) in db.execute(text(
                "SELECT body FROM outbox WHERE event_type = 'candidate.shared'"))]
    finally:
        rt.engine.dispose()
    assert [tuple(g) for g in grants] == [(by_centre, SIRET, "created")]
    assert [e["payload"] for e in events] == [{"candidate_id": by_centre, "siret": SIRET, "reason": "created"}]
    validate_payload("candidate.shared", events[0]["version"], events[0]["payload"])
    assert by_agent not in {g[0] for g in grants}
