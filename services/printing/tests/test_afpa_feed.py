"""The Afpa feed: batches by size and by time (P6), the zip (PDFs + manifests), DEETS routing overseas (P6), the
Afpa's acknowledgements and status reports (B3), PND then resend without duplicata (P7)."""
from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from ceres_printing import samples
from ceres_printing.batches import build_due_batches
from ceres_printing.models import PrintItem

from .conftest import bearer, deliver

METRO, DROM = "sess-metro", "sess-974"


@pytest.fixture(scope="module", autouse=True)
def requested(rt, client, issuer):
    deliver(rt, "titre.published", samples.TITRE)
    deliver(rt, "site.created", samples.site("site-paris"))
    deliver(rt, "site.created", samples.site("site-reunion", departement="974", region="04", zone="drom",
                                             commune_code="97411"))
    deliver(rt, "candidate.registered", samples.candidate(2001, "CHEVALIER"))
    deliver(rt, "candidate.registered", samples.candidate(2002, "MARIACHI", "Colette", "F"))
    deliver(rt, "candidate.registered", samples.candidate(2003, "PAYET", "Jean", street="5 chemin des Songes"))
    deliver(rt, "session.validated", samples.session_validated(METRO, "site-paris", [
        (2001, "titre", []), (2002, "ajourne", [])]))
    deliver(rt, "session.validated", samples.session_validated(DROM, "site-reunion", [(2003, "partiel", ["CCP-01"])],
                                                               commune_code="97411"))
    ud75 = bearer(issuer.issue("a75", "ud", scope={"departements": ["75"]}, ttl=3600))
    deets = bearer(issuer.issue("a974", "deets", scope={"regions": ["04"]}, ttl=3600))
    for session, cid, headers in ((METRO, 2001, ud75), (METRO, 2002, ud75), (DROM, 2003, deets)):
        url = f"/sessions/{session}/candidates/{cid}"
        assert client.post(url + "/verification", json={"conformes": True}, headers=headers).status_code == 200
        assert client.post(url + "/print-requests", json={}, headers=headers).status_code == 201
    return {"ud75": ud75}


@pytest.fixture(scope="module")
def batch(rt, client, afpa_headers):
    assert build_due_batches(rt) == []  # 5 documents < batch_size and none waited long enough
    built = build_due_batches(rt, force=True)
    assert len(built) == 1
    listing = client.get("/afpa/batches", headers=afpa_headers).json["batches"]
    assert [b["id"] for b in listing] == built and listing[0]["documents"] == 5
    archive = client.get(f"/afpa/batches/{built[0]}/archive", headers=afpa_headers)
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    assert hashlib.sha256(archive.data).hexdigest() == archive.headers["X-Checksum-SHA256"] == listing[0]["sha256"]
    return {"id": built[0], "zip": zipfile.ZipFile(io.BytesIO(archive.data)), "sha256": listing[0]["sha256"]}


def test_feed_needs_the_afpa_machine_role(client, requested):
    assert client.get("/afpa/batches").status_code == 401
    assert client.get("/afpa/batches", headers=requested["ud75"]).status_code == 403


def test_batch_zip_holds_pdfs_and_manifests(batch):
    zf = batch["zip"]
    manifest = json.loads(zf.read("manifest.json"))
    docs = manifest["documents"]
    assert {d["document_type"] for d in docs} == {"diplome", "lettre_diplome", "notification_echec", "livret",
                                                  "lettre_livret"}
    rows = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode()), delimiter=";"))
    assert [r["document_number"] for r in rows] == [d["document_number"] for d in docs]
    for name, digest in manifest["files"].items():
        data = zf.read(name)
        assert hashlib.sha256(data).hexdigest() == digest
        pages = PdfReader(io.BytesIO(data)).pages
        in_file = sorted((d for d in docs if d["file"] == name), key=lambda d: d["first_page"])
        # The documents' page ranges tile the file, in order, and each range carries its document's number (P8).
        assert [d["first_page"] for d in in_file] == list(
            itertools.accumulate([1] + [d["pages"] for d in in_file[:-1]]))
        assert sum(d["pages"] for d in in_file) == len(pages)
        for doc in in_file:
            text = " ".join(pages[i].extract_text() for i in range(doc["first_page"] - 1,
                                                                    doc["first_page"] - 1 + doc["pages"]))
            # pypdf reads a kerned pair of the number's glyphs as a gap (« N2022-8UQ J-NQC8 »): compare without spaces
            flat = "".join(text.split())
            assert doc["document_number"] in flat
            others = [d["document_number"] for d in in_file if d is not doc]
            assert not any(number in flat for number in others)
    # A pli (one request: the diploma and its letter) is one envelope: its documents are next to each other.
    diploma = next(d for d in docs if d["document_type"] == "diplome")
    letter = next(d for d in docs if d["document_type"] == "lettre_diplome")
    assert diploma["pli"] == letter["pli"] and diploma["file"] == letter["file"]
    assert abs(diploma["first_page"] - letter["first_page"]) == 1
    # The livret's print rendering has its front page (P2): two pages.
    assert next(d for d in docs if d["document_type"] == "livret")["pages"] == 2
    assert [r["first_page"] for r in rows] == [str(d["first_page"]) for d in docs]


def test_p6_mainland_to_the_candidate_overseas_to_the_deets(batch):
    docs = json.loads(batch["zip"].read("manifest.json"))["documents"]
    henri = next(d for d in docs if d["candidate_id"] == 2001)
    assert henri["routed_to"] == "candidat" and henri["addressee"] == "Monsieur CHEVALIER Henri"
    assert henri["address"]["lines"] == ["12 rue de la Paix"]
    jean = [d for d in docs if d["candidate_id"] == 2003]
    assert {d["routed_to"] for d in jean} == {"deets"}
    assert jean[0]["addressee"].startswith("DEETS de La Réunion")
    assert jean[0]["address"]["code_postal"] == "97400"


def test_acknowledgement_checks_the_checksum_and_is_idempotent(client, batch, afpa_headers):
    url = f"/afpa/batches/{batch['id']}/acknowledgement"
    wrong = client.post(url, json={"sha256": "0" * 64}, headers=afpa_headers)
    assert wrong.status_code == 422 and "sha256" in wrong.json["errors"]
    assert client.post(url, json={"sha256": "xyz"}, headers=afpa_headers).status_code == 422
    for _ in range(2):
        ok = client.post(url, json={"sha256": batch["sha256"]}, headers=afpa_headers)
        assert ok.status_code == 200 and ok.json["status"] == "acknowledged"
    assert client.get("/afpa/batches", headers=afpa_headers).json["batches"] == []
    assert client.post("/afpa/batches/LOT-NOPE/acknowledgement", json={"sha256": "0" * 64},
                       headers=afpa_headers).status_code == 404


def test_b3_statuses_idempotent_unknown_refused_nothing_half_written(rt, client, batch, afpa_headers):
    docs = json.loads(batch["zip"].read("manifest.json"))["documents"]
    echec = next(d for d in docs if d["document_type"] == "notification_echec")["document_number"]
    report = {"batch_id": batch["id"], "document_number": echec}
    unknown = client.post("/afpa/statuses", headers=afpa_headers, json={"reports": [
        {**report, "status": "printed"}, {"batch_id": batch["id"], "document_number": "X2022-0000-0000",
                                          "status": "printed"}]})
    assert unknown.status_code == 422 and "1" in unknown.json["errors"]["reports"]
    with rt.session_factory() as db:
        assert db.scalars(select(PrintItem.status).where(PrintItem.document_number == echec)).one() == "requested"
    bad = client.post("/afpa/statuses", headers=afpa_headers, json={"reports": [{**report, "status": "lost"}]})
    assert bad.status_code == 422
    for _ in range(2):
        ok = client.post("/afpa/statuses", headers=afpa_headers, json={"reports": [
            {**report, "status": "printed"}, {**report, "status": "posted"}]})
        assert ok.status_code == 200
    assert [r["changed"] for r in ok.json["results"]] == [False, False]
    late_then_delivered = client.post("/afpa/statuses", headers=afpa_headers, json={"reports": [
        {**report, "status": "printed"}, {**report, "status": "delivered"}]})
    assert [r["changed"] for r in late_then_delivered.json["results"]] == [False, True]
    contradiction = client.post("/afpa/statuses", headers=afpa_headers, json={"reports": [{**report, "status": "pnd"}]})
    assert contradiction.status_code == 409 and "délivré" not in contradiction.json["detail"]
    with rt.session_factory() as db:
        events = db.execute(select(rt.tables.outbox.c.event_type)
                            .where(rt.tables.outbox.c.body.contains(echec))).scalars().all()
    assert events.count("print.document_status") == 3  # printed, posted, delivered: repeats add nothing


def test_p7_pnd_then_corrected_address_resends_without_duplicata(rt, client, batch, afpa_headers, requested):
    docs = json.loads(batch["zip"].read("manifest.json"))["documents"]
    henri = [d["document_number"] for d in docs if d["candidate_id"] == 2001]
    client.post("/afpa/statuses", headers=afpa_headers, json={"reports": [
        {"batch_id": batch["id"], "document_number": n, "status": s} for n in henri for s in ("posted", "pnd")]})
    state = client.get(f"/sessions/{METRO}/candidates/2001", headers=requested["ud75"]).json
    assert state["pnd"] is True
    # A correction that does not touch the address sends nothing.
    deliver(rt, "candidate.updated", samples.candidate(2001, "CHEVALIER"))
    assert build_due_batches(rt, force=True) == []
    deliver(rt, "candidate.updated", samples.candidate(2001, "CHEVALIER", street="8 avenue Foch"))
    state = client.get(f"/sessions/{METRO}/candidates/2001", headers=requested["ud75"]).json
    assert state["pnd"] is False and state["duplicata_count"] == 0
    assert [r["kind"] for r in state["requests"]] == ["initial", "resend"]
    built = build_due_batches(rt, force=True)
    archive = client.get(f"/afpa/batches/{built[0]}/archive", headers=afpa_headers)
    resent = json.loads(zipfile.ZipFile(io.BytesIO(archive.data)).read("manifest.json"))["documents"]
    assert sorted(d["document_number"] for d in resent) == sorted(henri)  # same numbers: not a duplicata
    assert {d["request_kind"] for d in resent} == {"resend"}
    assert resent[0]["address"]["lines"] == ["8 avenue Foch"]
    pdf = zipfile.ZipFile(io.BytesIO(archive.data)).read(resent[0]["file"])
    assert "DUPLICATA" not in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    # The same correction delivered again (another event) resends nothing more.
    deliver(rt, "candidate.updated", samples.candidate(2001, "CHEVALIER", street="9 avenue Foch"))
    assert build_due_batches(rt, force=True) == []


def test_batches_by_size_and_by_time(rt, client, requested, clock):
    ud75 = requested["ud75"]
    url = f"/sessions/{METRO}/candidates/2002"
    clock.advance(days=8)
    client.post(url + "/verification", json={"conformes": True}, headers=ud75)
    assert client.post(url + "/print-requests", json={"kind": "duplicata"}, headers=ud75).status_code == 201
    assert build_due_batches(rt) == []  # one document, just queued
    clock.advance(seconds=rt.printing.batch_max_wait_s + 1)
    assert len(build_due_batches(rt)) == 1  # by time
    clock.advance(days=8)
    client.post(url + "/verification", json={"conformes": True}, headers=ud75)
    client.post(url + "/print-requests", json={"kind": "duplicata"}, headers=ud75)
    rt.printing.batch_size = 1
    try:
        assert len(build_due_batches(rt)) == 1  # by size
    finally:
        rt.printing.batch_size = 50
