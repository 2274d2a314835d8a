"""P8: a diploma of a session held before CERES, reprinted under its original number (seed 001), over HTTP: the
request (format, uniqueness, scope, field-by-field French errors), then the normal path — preview, verification,
print request, batch — and the PDF read back with the original number top right; the public page (B1)."""
from __future__ import annotations

import io
import json
import zipfile
from urllib.parse import urlparse

import pdfplumber
import pytest

from ceres_printing import samples
from ceres_printing.batches import build_due_batches

from .conftest import bearer, deliver

NUMBER = "TP-2014/075.00123"  # as printed on the 2014 parchment: slashes and dots kept
REPRINT = {"number": " tp-2014/075.00123 ", "candidate_id": 3001, "titre_code": "TP-00463",
           "titre_version": "2018-09-20", "issued_on": "2019-06-14", "departement": "75"}


@pytest.fixture(scope="module", autouse=True)
def reference(rt):
    deliver(rt, "titre.published", samples.TITRE)
    deliver(rt, "candidate.registered", samples.candidate(3001, "LAMBERT", "Odile", "F", "1971-02-03", "Vichy",
                                                         street="3 rue des Tanneurs"))


def top_right_number(pdf: bytes, number: str) -> bool:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[0]
        words = [w for w in page.extract_words() if w["text"] == number]
        return bool(words) and words[0]["x0"] > page.width / 2 and words[0]["top"] < page.height / 5


@pytest.fixture(scope="module")
def reprint(client, ud75):
    made = client.post("/reprints", json=REPRINT, headers=ud75)
    assert made.status_code == 201, made.json
    return made.json


def test_p8_reprint_keeps_the_original_number_and_the_candidates_record(reprint):
    assert reprint["documents"] == [{"number": NUMBER, "kind": "diplome", "label": "Diplôme"}]
    assert reprint["holder"] == "Madame LAMBERT Odile" and reprint["decision"] == "titre"
    assert reprint["mentions"] == ["Réimpression d'un diplôme antérieur à CERES, sous son numéro d'origine"]
    assert reprint["session_id"].startswith("avant-ceres-")


def test_p8_reprint_goes_the_normal_way_to_a_batch_with_the_number_top_right(rt, client, ud75, reprint,
                                                                              afpa_headers):
    base = f"/sessions/{reprint['session_id']}/candidates/3001"
    preview = client.get(f"{base}/documents/{NUMBER}/preview", headers=ud75)
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert top_right_number(preview.data, NUMBER)
    with pdfplumber.open(io.BytesIO(preview.data)) as doc:
        text = " ".join(doc.pages[0].extract_text().split())
    assert ("Madame LAMBERT Odile, née le 3 février 1971 à Vichy (FRANCE), a obtenu, par décision du jury, le titre "
            "professionnel de : Ouvrier du paysage") in text
    assert "Etabli à Paris le 14 juin 2019." in text
    refused = client.post(base + "/print-requests", json={"kind": "initial"}, headers=ud75)
    assert refused.status_code == 409  # P3: verify first, as for any diploma
    assert client.post(base + "/verification", json={"conformes": True}, headers=ud75).status_code == 200
    sent = client.post(base + "/print-requests", json={"kind": "initial"}, headers=ud75)
    assert sent.status_code == 201 and sent.json["next"] is None
    (batch_id,) = build_due_batches(rt, force=True)
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/afpa/batches/{batch_id}/archive",
                                                    headers=afpa_headers).data))
    (row,) = json.loads(archive.read("manifest.json"))["documents"]
    assert row["document_number"] == NUMBER and row["document_type"] == "diplome"
    assert row["routed_to"] == "candidat" and row["address"]["lines"] == ["3 rue des Tanneurs"]
    printed = archive.read(row["file"])
    assert top_right_number(printed, NUMBER)
    with pdfplumber.open(io.BytesIO(printed)) as doc:
        text = " ".join(doc.pages[0].extract_text().split())
        (link,) = {h["uri"] for h in doc.pages[0].hyperlinks if "/verification/" in h["uri"]}
    assert "RÉPUBLIQUE FRANÇAISE" in text and "DUPLICATA" not in text  # print artwork, not a duplicata
    # B1: the code printed on the reprint opens the public page, which confirms holder, titre and date.
    url = urlparse(link)
    assert url.path.endswith(f"/verification/{NUMBER}")
    page = client.get(f"{url.path.removeprefix('/api/printing')}?{url.query}", headers={"Accept": "application/json"})
    assert page.status_code == 200 and page.json["genuine"] is True
    assert page.json["holder"] == "Madame LAMBERT Odile" and page.json["issued_on"] == "2019-06-14"
    assert page.json["titre"] == "Ouvrier du paysage (TP-00463)"


def test_p8_the_same_number_twice_is_refused(client, ud75, reprint):
    again = client.post("/reprints", json={**REPRINT, "number": NUMBER.lower()}, headers=ud75)
    assert again.status_code == 409 and again.json["type"].endswith("number_taken")
    assert NUMBER in again.json["detail"]


@pytest.mark.parametrize("change, field, message", [
    ({"number": "AB"}, "number", "Numéro d'origine invalide"),
    ({"number": "2014//0075"}, "number", "Numéro d'origine invalide"),
    ({"number": "D2019-7KQ4-M9XZ"}, "number", "forme des numéros attribués par CERES"),
    ({"candidate_id": 999}, "candidate_id", "Candidat inconnu"),
    ({"titre_version": "2017-01-01"}, "titre_version", "pas au catalogue"),
    ({"issued_on": "2017-05-01"}, "issued_on", "précède l'arrêté du titre (20/09/2018)"),
    ({"issued_on": "2031-01-01"}, "issued_on", "dans le futur"),
    ({"departement": "99"}, "departement", "Département inconnu"),
    ({"titre_code": "paysage"}, "titre_code", "TP-00463"),
    ({"issued_on": "14/06/2019"}, "issued_on", "Date invalide"),
])
def test_p8_bad_requests_are_refused_field_by_field_in_french(client, ud75, change, field, message):
    answer = client.post("/reprints", json={**REPRINT, "number": "X-0001", **change}, headers=ud75)
    assert answer.status_code == 422
    assert message in " ".join(answer.json["errors"][field])


def test_p8_reprint_within_the_agents_scope_only(client, issuer, ud75):
    ud69 = bearer(issuer.issue("agent-69", "ud", scope={"departements": ["69"]}))
    outside = client.post("/reprints", json={**REPRINT, "number": "X-0002"}, headers=ud69)
    assert outside.status_code == 403 and "périmètre" in outside.json["detail"]
    dgefp = bearer(issuer.issue("dg", "dgefp"))  # reads nationally, does not request prints
    assert client.post("/reprints", json={**REPRINT, "number": "X-0003"}, headers=dgefp).status_code == 403
    assert client.post("/reprints", json={**REPRINT, "number": "X-0004"}).status_code == 401
    # The UD of the session's département may; a DREETS agent of its région too.
    dreets = bearer(issuer.issue("dreets-11", "dreets", scope={"regions": ["11"]}))
    assert client.post("/reprints", json={**REPRINT, "number": "X-0005"}, headers=dreets).status_code == 201


def test_p8_reprints_are_traced_and_stay_out_of_the_p9_dashboard(client, ud75, reprint):
    history = client.get(f"/history/candidacy/{reprint['session_id']}:3001", headers=ud75).json
    entries = history["entries"] if isinstance(history, dict) else history
    assert [e["action"] for e in entries][:1] == ["reprint_pre_ceres"]
    assert entries[0]["changes"]["number"] == [None, NUMBER] and entries[0]["actor"] == "ud:agent-75"
    # A reprint not sent yet is no « validated session without print request » (P9 counts CERES sessions).
    assert client.post("/reprints", json={**REPRINT, "number": "X-0006"}, headers=ud75).status_code == 201
    assert client.get("/dashboard", headers=ud75).json == {"sessions_sans_demande": 0, "sessions_partielles": 0}
