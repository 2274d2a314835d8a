"""Document rendering: real DSFR fonts, French wording, A4, multi-document PDFs, artwork (P2)."""
from __future__ import annotations

import base64
import io
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

try:
    import ceres_shared  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e shared`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pdfplumber
from jinja2 import UndefinedError
from pypdf import PdfReader

from ceres_shared.documents import fonts as fonts_mod
from ceres_shared.documents.artwork import artwork_data_uri, artwork_svg, signature_svg
from ceres_shared.documents.french import (NARROW_NBSP, birth_place_fr, civilite, civilite_courte,
                                           date_fr, date_fr_long, join_fr, ne_e, number_fr,
                                           person_line)
from ceres_shared.documents.renderer import DocumentRenderer

A4 = (595.28, 841.89)


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def fonts_dir() -> Path:
    # Default dir (var/fonts): the first run pays one `npm pack`, later runs skip it.
    dest = fonts_mod.default_fonts_dir()
    fonts_mod.install_fonts(dest)
    return dest


@pytest.fixture(scope="session")
def renderer(fonts_dir) -> DocumentRenderer:
    return DocumentRenderer(fonts_dir=fonts_dir)


def letter_context(last_name="Chevalier", first_name="Henri", gender="M", **extra) -> dict:
    return {
        "person": {
            "last_name": last_name, "first_name": first_name, "gender": gender,
            "birth_date": date(1990, 3, 1), "birth_place": "Lyon", "birth_country": "France",
            "address": "12 rue de la Gaîté, 69003 Lyon",
        },
        "letter_date": date(2025, 8, 14),
        "city": "Paris",
        "code": "K7QF-2M9X-TR4P",
        "references": ["214r", "214s"],
        "hours": 1250,
        "signatory": "Françoise Lefèvre",
        **extra,
    }


@pytest.fixture(scope="session")
def print_pdf(renderer) -> bytes:
    return renderer.render_pdf("sample_letter.html", letter_context(), artwork=True)


@pytest.fixture(scope="session")
def preview_pdf(renderer) -> bytes:
    return renderer.render_pdf("sample_letter.html", letter_context(), artwork=False)


def pages_text(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return [page.extract_text() or "" for page in doc.pages]


def font_names(pdf: bytes) -> set[str]:
    """/BaseFont of every font used, including inside form XObjects (inline SVG)."""
    names: set[str] = set()

    def walk(resources, seen):
        if resources is None or id(resources) in seen:
            return
        seen.add(id(resources))
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            names.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
        for xobject in (resources.get("/XObject") or {}).values():
            walk(xobject.get_object().get("/Resources"), seen)

    for page in PdfReader(io.BytesIO(pdf)).pages:
        walk(page.get("/Resources"), set())
    return names


# --------------------------------------------------------------------------- rendering

def test_letter_has_french_wording_with_accents(print_pdf):
    text = pages_text(print_pdf)[0]
    assert "Monsieur CHEVALIER Henri, né le 1 mars 1990 à Lyon (FRANCE)" in text
    assert "1 mars 1990" in text and "1er" not in text
    assert "le 14 août 2025" in text
    assert "« Mes titres professionnels »" in text
    assert "Lefèvre" in text and "reçue" in text and "Références" in text
    assert "214r, 214s" in text
    # number_fr puts U+202F there; text extraction may report it as a plain space.
    assert "1 250 heures" in text.replace(NARROW_NBSP, " ")


def test_letter_is_a4_single_page(print_pdf):
    reader = PdfReader(io.BytesIO(print_pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(A4[0], abs=1)
    assert float(box.height) == pytest.approx(A4[1], abs=1)


def test_only_dsfr_fonts_are_embedded(print_pdf, preview_pdf):
    for pdf in (print_pdf, preview_pdf):
        names = font_names(pdf)
        assert any("Marianne" in n for n in names), names
        # No silent fallback to a system font (a glyph missing from Marianne would show here).
        assert all(n.startswith(("Marianne", "Spectral")) for n in names), names


def test_print_has_artwork_and_preview_has_none(renderer, print_pdf, preview_pdf):
    print_text, preview_text = pages_text(print_pdf)[0], pages_text(preview_pdf)[0]
    assert "CACHET" in print_text and "RÉPUBLIQUE" in print_text
    assert "CACHET" not in preview_text and "RÉPUBLIQUE" not in preview_text  # rule P2
    html_print = renderer.render_html("sample_letter.html", letter_context(), artwork=True)
    html_preview = renderer.render_html("sample_letter.html", letter_context(), artwork=False)
    assert "<svg" in html_print and "data:image/svg+xml" in html_print
    assert "<svg" not in html_preview and "data:image/svg+xml" not in html_preview


def test_many_documents_one_page_each(renderer):
    people = [("Chevalier", "Henri", "M"), ("Béranger", "Élodie", "F"), ("Nguyen", "Thi Mai", "F")]
    pdf = renderer.render_many("sample_letter.html", [letter_context(*p) for p in people])
    texts = pages_text(pdf)
    assert len(texts) == 3
    assert "Monsieur CHEVALIER Henri, né le 1 mars 1990" in texts[0]
    assert "Madame BÉRANGER Élodie, née le 1 mars 1990" in texts[1]
    assert "Madame NGUYEN Thi Mai, née le 1 mars 1990" in texts[2]
    assert "BÉRANGER" not in texts[0] and "CHEVALIER" not in texts[1] and "BÉRANGER" not in texts[2]


def test_page_numbers_restart_for_each_document(fonts_dir):
    renderer = DocumentRenderer(fonts_dir=fonts_dir, page_numbers=True)
    texts = pages_text(renderer.render_many("sample_letter.html", [letter_context()] * 2))
    assert ["Page 1 sur 1" in t for t in texts] == [True, True]


def test_caller_templates_extend_the_base_layout(tmp_path, fonts_dir):
    (tmp_path / "attestation.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>Attestation de réussite</h1>'
        "<p>{{ person_line(nom, prenom, genre, naissance) }}</p>{% endblock %}",
        encoding="utf-8",
    )
    renderer = DocumentRenderer(tmp_path, fonts_dir=fonts_dir)
    text = pages_text(renderer.render_pdf(
        "attestation.html", {"nom": "Dupré", "prenom": "Zoé", "genre": "F", "naissance": date(2001, 12, 24)}))[0]
    assert "Attestation de réussite" in text
    assert "Madame DUPRÉ Zoé, née le 24 décembre 2001" in text


# --------------------------------------------------------------------------- combined rendering (batches)

def normalized(text: str) -> str:
    return " ".join(text.split())


def test_combined_rendering_prints_each_document_as_rendered_alone(renderer):
    """render_combined lays several documents out as one HTML and overlays the artwork afterwards: each document
    must read exactly as when it is rendered on its own, artwork included, on its own page range."""
    people = [("Chevalier", "Henri", "M"), ("Béranger", "Élodie", "F"), ("Nguyen", "Thi Mai", "F")]
    contexts = [letter_context(*p) for p in people]
    combined = renderer.render_combined([("sample_letter.html", c) for c in contexts], artwork=True)
    assert combined.pages == (range(0, 1), range(1, 2), range(2, 3))
    texts = pages_text(combined.data)
    for context, text in zip(contexts, texts):
        alone = pages_text(renderer.render_pdf("sample_letter.html", context, artwork=True))[0]
        assert normalized(text) == normalized(alone)
        assert "CACHET" in text and "RÉPUBLIQUE" in text  # the overlaid stamp and Marque block
    assert "BÉRANGER" in texts[1] and "BÉRANGER" not in texts[0] + texts[2]
    preview = renderer.render_combined([("sample_letter.html", c) for c in contexts], artwork=False)
    assert not any("CACHET" in t or "RÉPUBLIQUE" in t for t in pages_text(preview.data))  # rule P2


def test_combined_rendering_keeps_each_documents_page_range(tmp_path, fonts_dir):
    (tmp_path / "two_pages.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1>Recto {{ name }}</h1>'
        '<div class="page-break"><p>Verso {{ name }}</p></div>{% endblock %}', encoding="utf-8")
    renderer = DocumentRenderer(tmp_path, fonts_dir=fonts_dir)
    items = [("two_pages.html", {"name": "A"}), ("sample_letter.html", letter_context()),
             ("two_pages.html", {"name": "B"}), ("two_pages.html", {"name": "C"})]
    combined = renderer.render_combined(items, artwork=True)
    assert combined.pages == (range(0, 2), range(2, 3), range(3, 5), range(5, 7))
    texts = pages_text(combined.data)
    assert [t.split()[0:2] for t in texts[3:7]] == [["Recto", "B"], ["Verso", "B"], ["Recto", "C"], ["Verso", "C"]]
    assert "CHEVALIER" in texts[2]


class Checker:
    """A 3 × 3 mark with dark corners: a stand-in for a QR code in vector()."""

    DARK = ((0, 0), (0, 2), (2, 0), (2, 2))  # (row, column)

    def data_uri(self) -> str:
        from PIL import Image

        image = Image.new("L", (3, 3), 255)
        for row, col in self.DARK:
            image.putpixel((col, row), 0)
        out = io.BytesIO()
        image.save(out, "PNG")
        return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()

    def pdf_drawing(self, width: float, height: float) -> str:
        cells = " ".join(f"{col} {2 - row} 1 1 re" for row, col in self.DARK)
        return f"{width / 3:.4f} 0 0 {height / 3:.4f} 0 0 cm 0 g {cells} f"


def test_vector_mark_is_an_image_alone_and_vector_squares_in_a_batch(tmp_path, fonts_dir):
    (tmp_path / "mark.html").write_text(
        '{% extends "base.html" %}{% block content %}<p>Code</p>'
        '{{ vector(mark, width="30mm", height="30mm", alt="Code de test") }}{% endblock %}', encoding="utf-8")
    renderer = DocumentRenderer(tmp_path, fonts_dir=fonts_dir)
    alone = renderer.render_pdf("mark.html", {"mark": Checker()})
    combined = renderer.render_combined([("mark.html", {"mark": Checker()})] * 2, artwork=True)
    with pdfplumber.open(io.BytesIO(alone)) as pdf:
        (image,) = pdf.pages[0].images
        box = (image["x0"], image["top"], image["x1"], image["bottom"])
        assert not pdf.pages[0].rects
    assert box[2] - box[0] == pytest.approx(30 / 25.4 * 72, abs=0.1)
    cell = (box[2] - box[0]) / 3
    with pdfplumber.open(io.BytesIO(combined.data)) as pdf:
        for page in pdf.pages:
            (placeholder,) = page.images  # a transparent pixel keeps the box, the squares are drawn over it
            assert placeholder["srcsize"] == (1, 1)
            assert (placeholder["x0"], placeholder["top"]) == pytest.approx(box[:2], abs=0.01)
            squares = sorted((round((r["top"] - box[1]) / cell), round((r["x0"] - box[0]) / cell))
                             for r in page.rects)
            assert squares == sorted(Checker.DARK)
            assert all(r["width"] == pytest.approx(cell, abs=0.05) for r in page.rects)


def test_missing_context_value_fails_instead_of_printing_blank(renderer):
    context = letter_context()
    del context["code"]
    with pytest.raises(UndefinedError):
        renderer.render_pdf("sample_letter.html", context)


def test_missing_fonts_raise_a_clear_error_in_strict_mode(tmp_path):
    renderer = DocumentRenderer(fonts_dir=tmp_path / "empty")
    with pytest.raises(fonts_mod.FontsMissingError) as excinfo:
        renderer.render_pdf("sample_letter.html", letter_context())
    message = str(excinfo.value)
    assert "python -m ceres_shared.documents.fonts install" in message
    assert "Marianne-Regular" in message


def test_fallback_mode_renders_with_system_fonts(tmp_path):
    renderer = DocumentRenderer(fonts_dir=tmp_path / "empty", allow_fallback_fonts=True)
    pdf = renderer.render_pdf("sample_letter.html", letter_context())
    assert "né le 1 mars 1990" in pages_text(pdf)[0]
    assert not any("Marianne" in n for n in font_names(pdf))


# --------------------------------------------------------------------------- fonts install

def test_install_is_idempotent_and_does_not_call_npm_again(fonts_dir, monkeypatch):
    def no_npm(*_args, **_kwargs):
        raise AssertionError("npm must not run when the fonts are already installed")

    monkeypatch.setattr(fonts_mod, "_npm_pack", no_npm)
    paths = fonts_mod.install_fonts(fonts_dir)
    assert len(paths) == len(fonts_mod.FONT_FACES)
    assert fonts_mod.missing_fonts(fonts_dir) == []
    # Decompressed sfnt files, not woff2 any more.
    assert all(p.read_bytes()[:4] in (b"OTTO", b"\x00\x01\x00\x00") for p in paths)


def test_fonts_dir_can_be_overridden_by_env(monkeypatch, tmp_path):
    monkeypatch.setenv("CERES_FONTS_DIR", str(tmp_path))
    assert fonts_mod.default_fonts_dir() == tmp_path


def test_cli_check_reports_missing_fonts(tmp_path, capsys):
    assert fonts_mod.main(["check", "--dest", str(tmp_path)]) == 1
    assert "fonts install" in capsys.readouterr().err


# --------------------------------------------------------------------------- artwork

def test_artwork_is_svg_and_signature_is_stable_per_seed():
    for name in ("marque", "stamp", "signature", "guilloche"):
        assert artwork_svg(name).lstrip().startswith("<svg")
    assert signature_svg("Françoise Lefèvre") == signature_svg("Françoise Lefèvre")
    assert signature_svg("Françoise Lefèvre") != signature_svg("Jean Martin")
    assert "CACHET" in artwork_svg("stamp")
    assert "DREETS" in artwork_svg("stamp", sub_text="DREETS")
    assert artwork_data_uri("guilloche").startswith("data:image/svg+xml;base64,")
    with pytest.raises(KeyError):
        artwork_svg("marianne")


def test_stamp_escapes_caller_text():
    assert "<b>" not in artwork_svg("stamp", center_text="<b>")


# --------------------------------------------------------------------------- french.py

@pytest.mark.parametrize("value, expected", [
    (date(1990, 3, 1), "1 mars 1990"),
    (date(2024, 8, 15), "15 août 2024"),
    (date(1999, 12, 31), "31 décembre 1999"),
    (date(2000, 2, 9), "9 février 2000"),
    (datetime(2023, 1, 1, 23, 59), "1 janvier 2023"),
    ("1990-03-01", "1 mars 1990"),
    ("2021-07-14T10:00:00", "14 juillet 2021"),
])
def test_date_fr(value, expected):
    assert date_fr(value) == expected


def test_date_fr_rejects_non_dates():
    with pytest.raises(TypeError):
        date_fr(19900301)


def test_date_fr_long():
    assert date_fr_long(date(1990, 3, 1)) == "jeudi 1 mars 1990"
    assert date_fr_long(date(2025, 8, 17)) == "dimanche 17 août 2025"
    assert date_fr_long(date(1990, 3, 1), weekday=False) == "1 mars 1990"


@pytest.mark.parametrize("code, civ, short, born", [
    ("M", "Monsieur", "M.", "né"),
    ("h", "Monsieur", "M.", "né"),
    ("F", "Madame", "Mme", "née"),
    ("femme", "Madame", "Mme", "née"),
])
def test_gendered_words(code, civ, short, born):
    assert civilite(code) == civ
    assert civilite_courte(code) == short
    assert ne_e(code) == born


def test_unknown_gender_is_an_error():
    with pytest.raises(ValueError):
        civilite("X")


def test_person_line():
    assert person_line("Chevalier", "Henri", "M", date(1990, 3, 1), "Lyon", "France") == \
        "Monsieur CHEVALIER Henri, né le 1 mars 1990 à Lyon (FRANCE)"
    assert person_line("  de la  Fontaine ", "Anne-Sophie", "F", "1985-08-01", "Saint-Étienne") == \
        "Madame DE LA FONTAINE Anne-Sophie, née le 1 août 1985 à Saint-Étienne"
    assert person_line("Béranger", "Élodie", "F", date(1990, 3, 1), None, "Maroc") == \
        "Madame BÉRANGER Élodie, née le 1 mars 1990 à MAROC"
    assert person_line("Chevalier", "Henri", "M") == "Monsieur CHEVALIER Henri"


def test_birth_place_fr():
    assert birth_place_fr("Lyon", "france") == "Lyon (FRANCE)"
    assert birth_place_fr("Lyon") == "Lyon"
    assert birth_place_fr(None, None) == ""


def test_join_fr():
    assert join_fr(["214r", "214s"]) == "214r, 214s"
    assert join_fr(["214r"]) == "214r"
    assert join_fr([]) == ""
    assert join_fr(["a", "", None, "b"]) == "a, b"
    assert join_fr(["CCP1", "CCP2", "CCP3"], last="et") == "CCP1, CCP2 et CCP3"


@pytest.mark.parametrize("value, decimals, expected", [
    (0, None, "0"),
    (999, None, "999"),
    (1250, None, f"1{NARROW_NBSP}250"),
    (1234567, None, f"1{NARROW_NBSP}234{NARROW_NBSP}567"),
    (-45000, None, f"-45{NARROW_NBSP}000"),
    (1234.5, 2, f"1{NARROW_NBSP}234,50"),
    ("0.125", 2, "0,13"),
    (12.5, 0, "13"),
])
def test_number_fr(value, decimals, expected):
    assert number_fr(value, decimals) == expected


def test_a_moment_is_dated_as_in_france():
    """A request sent at 23:30 UTC on 22 November was sent on the 23rd in France (mentions, letters, pages)."""
    from datetime import datetime, timezone

    from ceres_shared.documents.french import date_fr, date_numeric_fr

    late = datetime(2026, 11, 22, 23, 30, tzinfo=timezone.utc)
    assert date_numeric_fr(late) == "23/11/2026"
    assert date_fr(late) == "23 novembre 2026"
    assert date_fr("2026-11-22T23:30:00+00:00") == "23 novembre 2026"
    assert date_fr("2026-07-01T21:59:00+00:00") == "1 juillet 2026"  # summer: UTC+2
    assert date_numeric_fr("2026-11-22") == "22/11/2026"  # a day stays that day
