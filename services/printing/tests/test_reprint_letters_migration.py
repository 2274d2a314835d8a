"""Revision 0004: a reprint recorded before reprints had their cover letter (P1, P8) gets one on upgrade; a
reprint that has one, and a CERES session's candidacy, are left as they are."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timezone

from sqlalchemy import text

from ceres_shared.config import BusSettings, Settings
from ceres_printing.bootstrap import bootstrap


def _session(db, session_id: str, origin: str) -> int:
    db.execute(text("INSERT INTO validated_session (session_id, public_id, titre_code, titre_version, site_id, "
                    "site_commune_code, centre_id, departement, region, validated_by, validated_at, origin) VALUES "
                    "(:sid, 'x', 'TP-00463', :v, '', '', '', '75', '11', 'ud:a', :at, :origin)"),
               {"sid": session_id, "v": date(2018, 9, 20), "at": datetime(2019, 6, 14, 12, tzinfo=timezone.utc),
                "origin": origin})
    return db.execute(text("INSERT INTO candidacy (session_id, candidate_id, position, decision, ccps_obtained, "
                           "duplicata_count) VALUES (:sid, 7, 0, 'titre', '[]', 0) RETURNING id"),
                      {"sid": session_id}).scalar_one()


def _document(db, number: str, candidacy_id: int, kind: str) -> None:
    db.execute(text("INSERT INTO document (number, candidacy_id, kind, position, issued_on) VALUES "
                    "(:n, :c, :k, 0, :d)"), {"n": number, "c": candidacy_id, "k": kind, "d": date(2019, 6, 14)})


def test_0004_gives_each_older_reprint_its_cover_letter(infra, amqp_url, issuer):
    settings = Settings(service="printing", database_url=infra.new_database(f"pmig{uuid.uuid4().hex[:6]}"),
                        bus=BusSettings(url=amqp_url, exchange=f"p{uuid.uuid4().hex[:8]}.events"), jwks_url=None)
    rt = bootstrap(settings, jwks=issuer.jwks())
    try:
        rt.upgrade_database("0003")
        with rt.engine.begin() as db:
            old = _session(db, "avant-ceres-old", "avant_ceres")
            _document(db, "TP-2014/0001", old, "diplome")
            done = _session(db, "avant-ceres-done", "avant_ceres")
            _document(db, "TP-2014/0002", done, "diplome")
            _document(db, "C2022-2222-2222", done, "lettre_diplome")
            ceres = _session(db, "ceres-session", "ceres")
            _document(db, "D2022-3333-3333", ceres, "diplome")
        rt.upgrade_database()
        with rt.engine.connect() as db:
            kinds = {cid: sorted(db.execute(text("SELECT kind, number, position, issued_on FROM document "
                                                 "WHERE candidacy_id = :c ORDER BY kind"), {"c": cid}).all())
                     for cid in (old, done, ceres)}
    finally:
        rt.engine.dispose()
    (diploma, letter) = kinds[old]
    assert diploma[:2] == ("diplome", "TP-2014/0001")
    assert letter[0] == "lettre_diplome" and letter[2] == 1 and str(letter[3]) == date.today().isoformat()
    assert re.fullmatch(rf"C{date.today().year}-[2-9A-HJ-NP-Z]{{4}}-[2-9A-HJ-NP-Z]{{4}}", letter[1])
    assert [row[1] for row in kinds[done]] == ["TP-2014/0002", "C2022-2222-2222"]  # already had one
    assert [row[1] for row in kinds[ceres]] == ["D2022-3333-3333"]  # a CERES session is not a reprint
