"""Builds the rendering context of each document from our copies (never another service's database) and renders
it: preview without artwork, print with it (P2); number and signed code on every document (P8, B1)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from ceres_shared.documents import DocumentRenderer
from ceres_shared.documents.renderer import CombinedPdf
from ceres_shared.documents.french import person_line

from . import verification
from .domain.reference import SIGNATORY, region_seat
from .domain.rules import DOCUMENT_LABELS
from .models import PRE_CERES, Candidacy, CandidateCopy, Document, TitreCopy, ValidatedSession

# WeasyPrint logs every layout step at INFO: far too much for thousands of documents.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_OF = {kind: f"{kind}.html" for kind in DOCUMENT_LABELS}


class MissingData(Exception):
    """A copy needed by the document has not arrived yet (event still on its way)."""


@lru_cache(maxsize=1)
def renderer() -> DocumentRenderer:
    return DocumentRenderer(TEMPLATES)


@dataclass(frozen=True)
class Parts:
    candidacy: Candidacy
    session: ValidatedSession
    candidate: CandidateCopy
    titre: TitreCopy


def load_parts(db: Session, candidacy: Candidacy) -> Parts:
    session = db.get(ValidatedSession, candidacy.session_id)
    candidate = db.get(CandidateCopy, candidacy.candidate_id)
    titre = db.get(TitreCopy, (session.titre_code, session.titre_version))
    if candidate is None:
        raise MissingData(f"Les données du candidat {candidacy.candidate_id} ne sont pas encore arrivées.")
    if titre is None:
        raise MissingData(f"Le titre {session.titre_code} ({session.titre_version}) n'est pas encore connu.")
    return Parts(candidacy, session, candidate, titre)


def first_name(candidate: CandidateCopy) -> str:
    return " ".join(candidate.prenoms)


def holder_name(candidate: CandidateCopy) -> str:
    civ = "Monsieur" if candidate.genre == "M" else "Madame"
    return f"{civ} {candidate.nom_naissance.upper()} {first_name(candidate)}"


def _de(libelle: str) -> str:
    return f"d'{libelle}" if libelle[:1].lower() in "aeiouyhéèêâîôû" else f"de {libelle}"


# A fixed mask: segno's choice of the best of eight masks is pure Python and costs ~7 ms per code; any mask is valid
# (ISO 18004) and at 22 mm, printed on white, every one of them reads.
QR_MASK = 4
QR_BORDER = 1  # quiet zone, in modules: the white page around the code does the rest


class QrCode:
    """The verification code (B1) of one document, drawn where the template prints it — in the rendering worker, not
    in the process that reads the database: as a PNG of one pixel per module for a plain layout (preview), as
    vector squares in a batch (renderer's ``vector()``: no image to encode, decode and embed per document)."""

    __slots__ = ("url",)

    def __init__(self, url: str):
        self.url = url

    def _qr(self):
        return segno.make_qr(self.url, error="m", mask=QR_MASK)

    def data_uri(self) -> str:
        return self._qr().png_data_uri(scale=1, border=QR_BORDER)

    def pdf_drawing(self, width: float, height: float) -> str:
        """Dark modules as rectangles (runs of a row merged) on white, in module units scaled to the box."""
        matrix = self._qr().matrix
        size = len(matrix) + 2 * QR_BORDER
        rects = []
        for row, line in enumerate(matrix):
            y = size - QR_BORDER - 1 - row  # PDF's y axis goes up
            col = 0
            while col < len(line):
                if line[col]:
                    start = col
                    while col < len(line) and line[col]:
                        col += 1
                    rects.append(f"{start + QR_BORDER} {y} {col - start} 1 re")
                else:
                    col += 1
        # White first, quiet zone included (as the PNG's opaque pixels): the watermark must not show between modules.
        return (f"{width / size:.4f} 0 0 {height / size:.4f} 0 0 cm 1 g 0 0 {size} {size} re f 0 g\n"
                + "\n".join(rects) + "\nf")

    def __getstate__(self):
        return self.url

    def __setstate__(self, url):
        self.url = url


def context(db: Session, parts: Parts, document: Document, *, public_base: str, now, duplicata: bool = False,
            address: dict | None = None, key=None) -> dict:
    """`key`: the signing key, when the caller builds many contexts at once (one query instead of one each)."""
    c, t, s = parts.candidate, parts.titre, parts.session
    key = key or verification.current_key(db, now)
    url = verification.verification_url(public_base, document.number, verification.sign(key, document.number))
    place, region_label = region_seat(s.region)
    ccp_labels = {ccp["code"]: ccp["libelle"] for ccp in t.ccps or []}
    address = address if address is not None else (c.address or {})
    address_lines = [*address.get("lines", []),
                     f"{address.get('code_postal', '')} {address.get('commune_label', '')}".strip()]
    if address.get("country") and address["country"].upper() != "FRANCE":
        address_lines.append(address["country"].upper())
    return {
        "doc": {"number": document.number, "kind": document.kind, "label": DOCUMENT_LABELS.get(document.kind, ""),
                "qr": QrCode(url), "verification_url": url, "duplicata": duplicata},
        "person": {"gender": c.genre, "last_name": c.nom_naissance, "first_name": first_name(c),
                   "birth_date": c.birth_date, "birth_place": c.birth_commune_label,
                   "birth_country": c.birth_country_label, "candidate_id": c.candidate_id},
        "holder_line": person_line(c.nom_naissance, first_name(c), c.genre, c.birth_date,
                                   c.birth_commune_label, c.birth_country_label),
        "titre": {"code": t.code, "libelle": t.libelle, "kind": t.kind, "level": t.level, "nsf_codes": t.nsf_codes,
                  "rncp": t.rncp, "version_date": t.version_date, "jo_date": t.jo_date},
        "titre_de": _de(t.libelle),
        "ccps_obtained": [{"code": code, "libelle": ccp_labels.get(code, code)}
                          for code in parts.candidacy.ccps_obtained],
        "address_lines": [line for line in address_lines if line],
        "session_public_id": s.public_id,
        "place": place,
        "region_label": region_label,
        "signatory": SIGNATORY,
        "issued_on": document.issued_on,
        "reprint_of": _reprinted_diploma(db, parts, document),
        "today": now.date() if hasattr(now, "date") else date.today(),
    }


def _reprinted_diploma(db: Session, parts: Parts, document: Document) -> dict | None:
    """The cover letter of a reprint (P8, P1) names the diploma it goes with: its original number and date."""
    if parts.session.origin != PRE_CERES or document.kind != "lettre_diplome":
        return None
    diploma = db.scalars(select(Document).where(Document.candidacy_id == parts.candidacy.id,
                                                Document.kind == "diplome")).first()
    return {"number": diploma.number, "issued_on": diploma.issued_on} if diploma else None


def render(template_kind: str, ctx: dict, *, artwork: bool) -> bytes:
    """One document: the preview as it is laid out; the print as in a batch (artwork overlaid), so what an agent
    downloads is exactly what the Afpa prints."""
    if artwork:
        return render_many([(template_kind, ctx)]).data
    return renderer().render_pdf(f"{template_kind}.html", ctx, artwork=False)


def render_plain(template_kind: str, ctx: dict) -> bytes:
    """Print rendering the plain WeasyPrint way (artwork drawn inline by the layout): the benchmark's reference."""
    return renderer().render_pdf(f"{template_kind}.html", ctx, artwork=True)


def render_many(items: list[tuple[str, dict]], *, artwork: bool = True) -> CombinedPdf:
    """Several documents in one PDF laid out together, each from a new page; returns the PDF and each document's
    page range (for the manifest)."""
    return renderer().render_combined([(f"{kind}.html", ctx) for kind, ctx in items], artwork=artwork)
