"""P8: a diploma of a session held before CERES, reprinted under its original number (seed 001), over HTTP: the
request (format, uniqueness, scope, field-by-field French errors), then the normal path — preview, verification,
print request, batch — and the PDF read back with the original number top right, with its cover letter (P1); the
check and preview before recording, the list of the scope's reprints; the public page (B1, no birth date)."""
from __future__ import annotations

import io
import json
import re
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


def top_right_number(pdf: bytes, number: str, page_index: int = 0) -> bool:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[page_index]
        words = [w for w in page.extract_words() if w["text"] == number]
        return bool(words) and words[0]["x0"] > page.width / 2 and words[0]["top"] < page.height / 5


def text_of(pdf: bytes, first: int = 1, count: int | None = None) -> str:
    """The text of pages first..first+count-1 (1-based, as the batch's manifest gives them)."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        pages = doc.pages[first - 1:None if count is None else first - 1 + count]
        return " ".join(" ".join(page.extract_text().split()) for page in pages)


@pytest.fixture(scope="module")
def reprint(client, ud75):
    made = client.post("/reprints", json=REPRINT, headers=ud75)
    assert made.status_code == 201, made.json
    return made.json


def test_p8_reprint_keeps_the_original_number_and_the_candidates_record(reprint):
    diploma, letter = reprint["documents"]
    assert diploma == {"number": NUMBER, "kind": "diplome", "label": "Diplôme"}
    # P1: the diploma goes with its cover letter, numbered by CERES (P8) in the year of the reprint.
    assert letter["kind"] == "lettre_diplome" and letter["label"] == "Lettre d'accompagnement du diplôme"
    assert re.fullmatch(r"C2022-[2-9A-Z]{4}-[2-9A-Z]{4}", letter["number"])
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
    row, letter_row = json.loads(archive.read("manifest.json"))["documents"]
    assert row["document_number"] == NUMBER and row["document_type"] == "diplome"
    assert row["routed_to"] == "candidat" and row["address"]["lines"] == ["3 rue des Tanneurs"]
    # P1: the cover letter is printed and posted with it, under its own number top right (P8).
    letter_number = reprint["documents"][1]["number"]
    assert letter_row["document_number"] == letter_number and letter_row["document_type"] == "lettre_diplome"
    letter = archive.read(letter_row["file"])  # one pli: the diploma's pages, then the letter's
    assert top_right_number(letter, letter_number, letter_row["first_page"] - 1)
    letter_text = text_of(letter, letter_row["first_page"], letter_row["pages"])
    assert "Objet : réimpression de votre diplôme du titre professionnel" in letter_text
    assert ("J'ai le plaisir de vous adresser la réimpression de votre diplôme du titre professionnel Ouvrier du "
            "paysage (TP-00463), établi le 14 juin 2019.") in letter_text
    assert f"Ce diplôme conserve son numéro d'origine, {NUMBER}, qui figure en haut à droite du document." \
        in letter_text
    assert "Madame Odile LAMBERT 3 rue des Tanneurs" in letter_text and "Paris, le 29 novembre 2022" in letter_text
    printed = archive.read(row["file"])
    assert top_right_number(printed, NUMBER, row["first_page"] - 1)
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
    # B1 and data minimisation (RGPD): holder, titre and date — an employer does not need the birth date.
    assert "birth_date" not in page.json
    html = client.get(f"{url.path.removeprefix('/api/printing')}?{url.query}").get_data(as_text=True)
    assert "Madame LAMBERT Odile" in html and "1971" not in html and "né(e)" not in html


def test_p8_the_same_number_twice_is_refused(client, ud75, reprint):
    again = client.post("/reprints", json={**REPRINT, "number": NUMBER.lower()}, headers=ud75)
    assert again.status_code == 409 and again.json["type"].endswith("number_taken")
    assert NUMBER in again.json["detail"]
    assert again.json["errors"] == {"number": ["Ce numéro figure déjà sur un document de CERES."]}  # next to it
    checked = client.post("/reprints/check", json={**REPRINT, "number": NUMBER}, headers=ud75)
    assert checked.status_code == 409 and checked.json["type"].endswith("number_taken")


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
    for path in ("/reprints/check", "/reprints/preview", "/reprints"):
        answer = client.post(path, json={**REPRINT, "number": "X-0001", **change}, headers=ud75)
        assert answer.status_code == 422, path
        assert message in " ".join(answer.json["errors"][field]), path


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


def test_p8_check_and_preview_before_recording_anything(client, ud75, issuer):
    before = client.get("/reprints", headers=ud75).json["total"]
    checked = client.post("/reprints/check", json={**REPRINT, "number": " x-2015/0042 "}, headers=ud75)
    assert checked.status_code == 200
    assert checked.json == {"number": "X-2015/0042", "candidate_id": 3001, "holder": "Madame LAMBERT Odile",
                            "birth_date": "1971-02-03", "titre_code": "TP-00463", "titre_version": "2018-09-20",
                            "titre": "Ouvrier du paysage (TP-00463)", "issued_on": "2019-06-14",
                            "departement": "75", "region": "11"}
    preview = client.post("/reprints/preview", json={**REPRINT, "number": "X-2015/0042"}, headers=ud75)
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"
    assert top_right_number(preview.data, "X-2015/0042")
    text = text_of(preview.data)
    assert "Madame LAMBERT Odile, née le 3 février 1971 à Vichy (FRANCE)" in text
    assert "RÉPUBLIQUE FRANÇAISE" not in text and "DUPLICATA" not in text  # P2: no artwork in a preview
    # Nothing recorded: not listed, and the number is still free.
    assert client.get("/reprints", headers=ud75).json["total"] == before
    ud69 = bearer(issuer.issue("agent-69", "ud", scope={"departements": ["69"]}))
    for path in ("/reprints/check", "/reprints/preview"):
        refused = client.post(path, json={**REPRINT, "number": "X-2015/0042"}, headers=ud69)
        assert refused.status_code == 403 and "périmètre" in refused.json["detail"]


def test_p8_list_of_the_scopes_reprints_paged_and_sorted(client, ud75, issuer, reprint):
    for n in ("X-0101", "X-0103", "X-0102"):
        assert client.post("/reprints", json={**REPRINT, "number": n}, headers=ud75).status_code == 201
    first = client.get("/reprints", query_string={"per_page": 2}, headers=ud75).json
    assert first["total"] >= 4 and first["page"] == 1 and first["sort"] == "recent"
    assert [r["number"] for r in first["reprints"]] == ["X-0102", "X-0103"]  # last recorded first
    row = first["reprints"][0]
    assert row["holder"] == "Madame LAMBERT Odile" and row["titre_code"] == "TP-00463"
    assert row["issued_on"] == "2019-06-14" and row["departement"] == "75" and row["initial_request_at"] is None
    numbers = [r["number"] for r in client.get("/reprints", query_string={"sort": "numero", "per_page": 100},
                                               headers=ud75).json["reprints"]]
    assert numbers == sorted(numbers) and {"X-0101", "X-0102", "X-0103", NUMBER} <= set(numbers)
    for sort in ("titulaire", "date"):  # one holder, one original date here: every row, ties broken the same way
        rows = client.get("/reprints", query_string={"sort": sort, "per_page": 100}, headers=ud75).json["reprints"]
        assert sorted(r["number"] for r in rows) == numbers
        assert [r["number"] for r in rows][:3] == ["X-0102", "X-0103", "X-0101"]  # then the last recorded first
    second = client.get("/reprints", query_string={"sort": "numero", "per_page": 2, "page": 2}, headers=ud75).json
    assert [r["number"] for r in second["reprints"]] == numbers[2:4]
    bad = client.get("/reprints", query_string={"sort": "nom"}, headers=ud75)
    assert bad.status_code == 422 and "Tri inconnu" in " ".join(bad.json["errors"]["sort"])
    # I4: another département sees none of them; the DGEFP reads nationally.
    ud69 = bearer(issuer.issue("agent-69", "ud", scope={"departements": ["69"]}))
    assert client.get("/reprints", headers=ud69).json == {"total": 0, "page": 1, "per_page": 20, "sort": "recent",
                                                          "reprints": []}
    dgefp = bearer(issuer.issue("dg", "dgefp"))
    assert client.get("/reprints", headers=dgefp).json["total"] == first["total"]
