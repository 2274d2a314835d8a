"""Documents read back from their PDFs: P10's wording, the unique number top right (P8), what the preview
leaves out (P2), the signed code and the public verification page (B1)."""
from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pdfplumber
import pytest
from sqlalchemy import select

from ceres_printing import documents, samples, verification
from ceres_printing.models import Candidacy, Document

from .conftest import deliver

P10 = ("Monsieur CHEVALIER Henri, né le 1 mars 1990 à Lyon (FRANCE), a obtenu, par décision du jury, le titre "
       "professionnel de : Ouvrier du paysage (arrêté du 20 septembre 2018, publié au journal officiel du 26 "
       "septembre 2018). Ce titre est classé au niveau 3 du cadre national des certifications professionnelles, "
       "dans le(s) domaine(s) d'activité 214r, 214s. Il est enregistré dans le répertoire national des "
       "certifications professionnelles (RNCP399). Etabli à Paris le 16 novembre 2022. Le responsable de région")
STAMP_TEXT = "RÉPUBLIQUE FRANÇAISE"


def text_of(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return " ".join(" ".join((page.extract_text() or "").split()) for page in doc.pages)


def pages_of(pdf: bytes) -> int:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


@pytest.fixture(scope="module")
def rendered(rt):
    """One session: Henri admitted, Colette partial, Paul ajourné; each document rendered once, both ways."""
    deliver(rt, "titre.published", samples.TITRE)
    deliver(rt, "site.created", samples.site("site-doc"))
    deliver(rt, "candidate.registered", samples.candidate(2122559))
    deliver(rt, "candidate.registered", samples.candidate(2122560, "MARIACHI", "Colette", "F", "1985-07-14", "Nantes"))
    deliver(rt, "candidate.registered", samples.candidate(2122561, "MARTIN", "Paul"))
    deliver(rt, "session.validated", samples.session_validated("sess-doc", "site-doc", [
        (2122559, "titre", []), (2122560, "partiel", ["CCP-01"]), (2122561, "ajourne", [])]))
    out = {}
    with rt.session_factory.begin() as db:
        for candidacy in db.scalars(select(Candidacy).where(Candidacy.session_id == "sess-doc")):
            parts = documents.load_parts(db, candidacy)
            for doc in db.scalars(select(Document).where(Document.candidacy_id == candidacy.id)):
                ctx = documents.context(db, parts, doc, public_base=rt.printing.public_base_url,
                                        now=rt.printing.now())
                out[doc.kind] = {"number": doc.number, "url": ctx["doc"]["verification_url"], "context": ctx,
                                 "preview": documents.render(doc.kind, ctx, artwork=False),
                                 "print": documents.render(doc.kind, ctx, artwork=True)}
    return out


def test_p10_diploma_wording_exactly(rendered):
    assert P10 in text_of(rendered["diplome"]["preview"])
    printed = text_of(rendered["diplome"]["print"])
    assert "a obtenu, par décision du jury, le titre professionnel de : Ouvrier du paysage" in printed


def test_p8_unique_number_top_right_on_every_document(rendered):
    numbers = {kind: r["number"] for kind, r in rendered.items()}
    assert set(numbers) == {"diplome", "lettre_diplome", "livret", "lettre_livret", "notification_echec"}
    assert len(set(numbers.values())) == 5
    assert re.fullmatch(r"D2022-[2-9A-Z]{4}-[2-9A-Z]{4}", numbers["diplome"])
    for kind, r in rendered.items():
        with pdfplumber.open(io.BytesIO(r["preview"])) as pdf:
            page = pdf.pages[0]
            words = [w for w in page.extract_words() if w["text"] == r["number"]]
            assert words, kind
            assert words[0]["x0"] > page.width / 2 and words[0]["top"] < page.height / 5, kind


def test_p2_preview_lacks_stamp_signature_watermark_and_livret_front_page(rendered):
    for kind in ("diplome", "livret", "lettre_diplome"):
        preview, printed = rendered[kind]["preview"], rendered[kind]["print"]
        assert STAMP_TEXT not in text_of(preview)
        assert STAMP_TEXT in text_of(printed).replace("•", " ") or "CACHET" in text_of(printed)
    preview, printed = rendered["diplome"]["preview"], rendered["diplome"]["print"]
    with pdfplumber.open(io.BytesIO(preview)) as p, pdfplumber.open(io.BytesIO(printed)) as q:
        # Watermark, Marque État and signature are vector drawings: only the print has them.
        assert len(p.pages[0].curves) + 50 < len(q.pages[0].curves)
    assert pages_of(rendered["livret"]["preview"]) == 1
    assert pages_of(rendered["livret"]["print"]) == 2
    assert "Livret de certification" in text_of(rendered["livret"]["print"]).split(rendered["livret"]["number"])[0]


def test_livret_lists_the_ccps_obtained_and_letters_address_the_candidate(rendered):
    livret = text_of(rendered["livret"]["preview"])
    assert "Madame MARIACHI Colette, née le 14 juillet 1985 à Nantes (FRANCE)" in livret
    assert "CCP-01 — Réaliser des travaux d'entretien paysager" in livret
    assert "CCP-02" not in livret
    letter = text_of(rendered["lettre_diplome"]["preview"])
    assert "Monsieur Henri CHEVALIER 12 rue de la Paix 75002 Paris" in letter
    echec = text_of(rendered["notification_echec"]["preview"])
    assert "ne vous a pas attribué ce titre" in echec


def test_b1_verification_page_accepts_the_real_code_and_rejects_forged_or_unknown(rt, rendered, client):
    url = urlparse(rendered["diplome"]["url"])
    assert url.netloc == "ceres.test" and url.path.endswith("/verification/" + rendered["diplome"]["number"])
    path, code = url.path.removeprefix("/api/printing"), parse_qs(url.query)["code"][0]
    ok = client.get(f"{path}?code={code}", headers={"Accept": "application/json"})
    assert ok.status_code == 200 and ok.json["genuine"] is True
    assert ok.json["holder"] == "Monsieur CHEVALIER Henri"
    assert ok.json["titre"] == "Ouvrier du paysage (TP-00463)" and ok.json["issued_on"] == "2022-11-16"
    html = client.get(f"{path}?code={code}")
    assert "Document authentique" in html.get_data(as_text=True)
    kid, mac = code.split(".")
    forged = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for bad in (f"{path}?code={kid}.{forged}", path, f"{path}?code=zz.{mac}",
                f"/verification/D2022-2222-2222?code={code}"):
        answer = client.get(bad)
        assert answer.status_code == 404, bad
        assert "Document non authentique" in answer.get_data(as_text=True)
    # Another document's code does not fit this number.
    other = parse_qs(urlparse(rendered["livret"]["url"]).query)["code"][0]
    assert other != code
    assert client.get(f"{path}?code={other}").status_code == 404


def test_b1_keys_rotate_and_old_codes_stay_valid_until_retired(rt, rendered, clock):
    number = rendered["diplome"]["number"]
    with rt.session_factory.begin() as db:
        old = verification.current_key(db, clock.now)
        old_code = verification.sign(old, number)
        new = verification.rotate(db, clock.now + timedelta(seconds=1), note="test")
        assert verification.current_key(db, clock.now + timedelta(seconds=1)).kid == new.kid
        assert verification.is_genuine(db, number, old_code)
        assert verification.is_genuine(db, number, verification.sign(new, number))
        old.retired_at = clock.now
        db.flush()
        assert not verification.is_genuine(db, number, old_code)
        db.rollback()


def test_p10_ccs_diploma_names_the_certificate_and_prints_like_the_plain_rendering(rt):
    """A CCS gets a diploma of its own wording; the batch rendering (artwork overlaid, documents laid out together)
    prints the same text as the plain one-document WeasyPrint rendering."""
    deliver(rt, "titre.published", samples.CCS)
    deliver(rt, "site.created", samples.site("site-ccs"))
    deliver(rt, "candidate.registered", samples.candidate(2122570, "ROUX", "Lina", "F", "1992-05-02", "Brest"))
    deliver(rt, "session.validated", samples.session_validated("sess-ccs", "site-ccs", [(2122570, "titre", [])],
                                                               titre=samples.CCS))
    with rt.session_factory.begin() as db:
        candidacy = db.scalars(select(Candidacy).where(Candidacy.session_id == "sess-ccs")).one()
        parts = documents.load_parts(db, candidacy)
        docs = {d.kind: d for d in db.scalars(select(Document).where(Document.candidacy_id == candidacy.id))}
        contexts = {kind: documents.context(db, parts, d, public_base=rt.printing.public_base_url,
                                            now=rt.printing.now()) for kind, d in docs.items()}
    assert set(docs) == {"diplome", "lettre_diplome"}
    combined = documents.render_many([("lettre_diplome", contexts["lettre_diplome"]),
                                       ("diplome", contexts["diplome"])])
    assert [len(r) for r in combined.pages] == [1, 1]
    with pdfplumber.open(io.BytesIO(combined.data)) as pdf:
        letter, diploma = (" ".join(p.extract_text().split()) for p in pdf.pages)
    assert diploma.startswith("RÉPUBLIQUE FRANÇAISE") or "RÉPUBLIQUE FRANÇAISE" in diploma  # Marque block, print
    assert "Certificat complémentaire de spécialisation" in diploma
    assert ("Madame ROUX Lina, née le 2 mai 1992 à Brest (FRANCE), a obtenu, par décision du jury, le certificat "
            "complémentaire de spécialisation : Arrosage automatique") in diploma
    assert "Ce certificat est classé au niveau 3" in diploma and "(RNCP400)" in diploma
    assert docs["diplome"].number in diploma and docs["lettre_diplome"].number in letter
    assert "diplôme du certificat complémentaire de spécialisation Arrosage automatique" in letter
    plain = text_of(documents.render_plain("diplome", contexts["diplome"]))
    assert " ".join(plain.replace("•", " ").split()) == " ".join(diploma.replace("•", " ").split())


def test_batch_file_prints_every_document_as_rendered_alone(rendered):
    """A batch file lays its documents out together (one HTML, artwork overlaid): each document keeps its page
    range and reads exactly as the plain one-document WeasyPrint rendering (artwork drawn by the layout)."""
    kinds = ["diplome", "lettre_diplome", "livret", "lettre_livret", "notification_echec"]
    combined = documents.render_many([(kind, rendered[kind]["context"]) for kind in kinds])
    assert [len(r) for r in combined.pages] == [1, 1, 2, 1, 1]  # the livret's front page, in print only (P2)
    with pdfplumber.open(io.BytesIO(combined.data)) as pdf:
        texts = [" ".join(" ".join(pdf.pages[i].extract_text().split()) for i in r) for r in combined.pages]
    for kind, text in zip(kinds, texts):
        plain = text_of(documents.render_plain(kind, rendered[kind]["context"]))
        assert " ".join(text.replace("•", " ").split()) == " ".join(plain.replace("•", " ").split()), kind
        assert rendered[kind]["number"] in text
        assert all(rendered[other]["number"] not in text for other in kinds if other != kind)


def gray(rect) -> float | None:
    color = rect["non_stroking_color"]
    return color[0] if isinstance(color, (tuple, list)) and len(color) == 1 else color


def qr_modules(page) -> tuple[list[list[int]], tuple]:
    """The code printed as squares, read back: its white square (quiet zone included) and the dark modules."""
    white = [r for r in page.rects if gray(r) == 1]
    (frame,) = [r for r in white if r["x0"] > page.width / 2 and r["top"] < page.height / 4]
    dark = [r for r in page.rects if gray(r) == 0
            and frame["x0"] <= r["x0"] < frame["x1"] and frame["top"] <= r["top"] < frame["bottom"]]
    module = min(r["height"] for r in dark)
    size = round(frame["width"] / module)
    grid = [[0] * size for _ in range(size)]
    for r in dark:
        row, col = round((r["top"] - frame["top"]) / module), round((r["x0"] - frame["x0"]) / module)
        for c in range(col, col + round(r["width"] / module)):
            grid[row][c] = 1
    return grid, (frame["x0"], frame["top"], frame["x1"], frame["bottom"])


def test_b1_printed_code_is_the_verification_url_drawn_in_vector(rendered):
    """The print draws the QR code as squares (batch rendering): read back, they are exactly the code of the
    verification URL; the preview shows the same code as an image in the same place."""
    import segno

    url = rendered["diplome"]["url"]
    expected = segno.make_qr(url, error="m", mask=documents.QR_MASK)
    border = documents.QR_BORDER
    size = len(expected.matrix) + 2 * border
    wanted = [[0] * size for _ in range(size)]
    for row, line in enumerate(expected.matrix):
        for col, dark in enumerate(line):
            wanted[row + border][col + border] = int(bool(dark))
    with pdfplumber.open(io.BytesIO(rendered["diplome"]["print"])) as pdf:
        grid, frame = qr_modules(pdf.pages[0])
        assert not [i for i in pdf.pages[0].images if i["srcsize"] != (1, 1)]  # no raster code in print
    assert grid == wanted
    assert frame[2] - frame[0] == pytest.approx(22 / 25.4 * 72, abs=0.1)  # 22 mm
    with pdfplumber.open(io.BytesIO(rendered["diplome"]["preview"])) as pdf:
        (image,) = pdf.pages[0].images
    assert image["srcsize"] == (size, size)
    assert (image["x0"], image["top"], image["x1"], image["bottom"]) == pytest.approx(frame, abs=0.05)


@pytest.mark.timeout(180)
def test_render_pool_recycles_its_workers_and_renders_every_file(rendered):
    """Workers are replaced after `recycle_after` files (flat memory) and no file is ever left waiting — the trap of
    ProcessPoolExecutor(max_tasks_per_child) on Python 3.11 (CPython gh-115634)."""
    from ceres_printing.rendering import RenderPool

    files = [[(kind, rendered[kind]["context"])] for kind in ("diplome", "lettre_diplome", "notification_echec",
                                                              "lettre_livret", "diplome")]
    pool = RenderPool(workers=1, recycle_after=2)
    try:
        first = pool.render(files[:3])
        second = pool.render(files[3:])
    finally:
        pool.shutdown()
    results = first + second
    assert [len(r.pages) for r in results] == [1] * 5
    assert [r.worker_pid for r in results].count(results[0].worker_pid) == 2
    assert len({r.worker_pid for r in results}) == 3  # files 1-2, 3-4, 5: three processes in turn
    for kind, result in zip(("diplome", "lettre_diplome", "notification_echec"), results):
        assert rendered[kind]["number"] in text_of(result.data)
    stats = pool.stats()
    assert stats["files"] == 5 and len(stats["workers"]) == 3 and stats["documents"] == 5
