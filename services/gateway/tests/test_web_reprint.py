"""P8 in Debian's Chromium against the whole platform: an agent asks for the reprint of a diploma of a session held
before CERES — field-by-field French errors from printing next to the fields, the agent's scope, a confirmation
with the holder and a read-only preview (P2), then the reprint with its cover letter (P1), sent to print; the list
of the scope's reprints (empty state, sorting, pages); the menu only for those who may; the public verification
page (B1) without the birth date. Each page: no console error, axe-core, a screenshot."""
from __future__ import annotations

import io
import sys
import uuid
from pathlib import Path

import pdfplumber
import pytest
import requests
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
from test_web_agent import UD01, flash  # noqa: E402
from test_web_journeys import web  # noqa: E402,F401  (a fresh browser context and its checker, per test)
from webplatform import browser, demo_login, menu_labels, start_full_platform  # noqa: E402,F401

NUMBER = "TP-2009/001.00042"  # as printed on an older parchment: slashes and dots kept


@pytest.fixture(scope="module")
def platform(infra, amqp_url, issuer):
    started, close = start_full_platform(infra, amqp_url, issuer)
    from ceres_printing.models import CandidateCopy, TitreCopy

    with started.runtimes["printing"].session_factory() as db:
        # I4 (H1): the UD of the Ain reprints for a person living in the Ain (Élodie ROUSSEAU, Bourg-en-Bresse)
        started.holder = db.scalars(select(CandidateCopy).where(CandidateCopy.nom_naissance == "ROUSSEAU")).one()
        started.titre = db.scalars(select(TitreCopy).where(TitreCopy.code == "TP-00463")
                                   .order_by(TitreCopy.version_date)).first()
    started.issuer = issuer
    yield started
    close()


def fill(page, **values) -> None:
    labels = {"number": "Numéro d'origine", "issued_on": "Date du diplôme d'origine",
              "departement": "Département de la session", "candidate_id": "N° CERES du candidat"}
    code, version = values.pop("titre_code"), values.pop("titre_version")
    # The titre and its version are chosen in the catalogue's list (« code|date of the arrêté »); none: left empty.
    page.get_by_label("Titre et version").select_option(f"{code}|{version}" if version else "")
    for name, value in values.items():
        page.get_by_label(labels[name]).fill(value)


def pdf_text(pdf: bytes) -> tuple[str, list[dict], list[str]]:
    """The first page's text, its words with positions, and its links."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        first = doc.pages[0]
        words = [{**w, "right_half": w["x0"] > first.width / 2, "top_fifth": w["top"] < first.height / 5}
                 for w in first.extract_words()]
        return " ".join(first.extract_text().split()), words, [h["uri"] for h in first.hyperlinks]


def top_right(words: list[dict], number: str) -> bool:
    return any(w["text"] == number and w["right_half"] and w["top_fifth"] for w in words)


def valid(platform) -> dict:
    return {"number": NUMBER.lower(), "issued_on": "2019-06-14", "departement": "01", "titre_code": "TP-00463",
            "titre_version": platform.titre.version_date.isoformat(),
            "candidate_id": str(platform.holder.candidate_id)}


def test_p8_reprint_journey_from_the_form_to_the_print_request(web, platform):
    page, checker = web
    demo_login(page, checker, UD01)
    assert "Réimpressions" in menu_labels(page)
    page.get_by_role("link", name="Réimpressions", exact=True).first.click()
    assert page.locator("h1").inner_text() == "Réimpressions"
    assert page.locator("#aucune-reimpression").inner_text() == "Aucune réimpression dans votre périmètre pour " \
                                                                "l'instant."
    checker.check("liste-vide")

    page.get_by_role("link", name="Demander une réimpression").click()
    assert page.locator("h1").inner_text() == "Demander la réimpression d'un diplôme"
    checker.check("formulaire")
    # The request's shape first (printing's schema): a CERES id that is no number, a date left out.
    fill(page, **{**valid(platform), "candidate_id": "Chevalier", "titre_version": ""})
    page.get_by_role("button", name="Vérifier et voir l'aperçu").click()
    assert page.locator("#candidate_id-erreur").inner_text() == "Nombre entier attendu."
    assert page.locator("#titre-erreur").inner_text() == "Ce champ est obligatoire."
    assert "TP-00463 — Ouvrier du paysage — arrêté du" in page.locator("#titre").inner_text()  # the catalogue
    assert page.get_by_label("Numéro d'origine").input_value() == NUMBER.lower()  # what was typed stays
    checker.check("erreurs-forme")
    # Then printing's rules (P8): the number's shape, an unknown département, a date before the arrêté.
    fill(page, **{**valid(platform), "number": "AB", "departement": "99", "issued_on": "2001-01-01"})
    page.get_by_role("button", name="Vérifier et voir l'aperçu").click()
    assert page.locator("#number-erreur").inner_text().startswith("Numéro d'origine invalide : de 4 à 24 caractères")
    assert page.locator("#departement-erreur").inner_text() == ("Département inconnu (code INSEE : 01 à 95, 2A, 2B, "
                                                                "971 à 976).")
    assert "précède l'arrêté du titre" in page.locator("#issued_on-erreur").inner_text()
    assert page.locator("#erreur-formulaire .fr-alert__title").inner_text() == "Certaines données sont invalides."
    checker.check("erreurs-regles")
    # I4: the Rhône is not the Ain's agent's: said next to the département.
    fill(page, **{**valid(platform), "departement": "69"})
    page.get_by_role("button", name="Vérifier et voir l'aperçu").click()
    assert page.locator("#departement-erreur").inner_text() == ("Ce département n'est pas dans votre périmètre "
                                                                "géographique.")
    checker.check("hors-perimetre")

    fill(page, **valid(platform))
    page.get_by_role("button", name="Vérifier et voir l'aperçu").click()
    assert page.locator("h1").inner_text() == f"Confirmer la réimpression du diplôme n° {NUMBER}"
    facts = page.locator("#recapitulatif").inner_text()
    assert "Madame ROUSSEAU Élodie, né(e) le 07/07/1979" in facts and "14/06/2019" in facts
    assert "Ouvrier du paysage (TP-00463)" in facts
    checker.check("confirmation")
    # P2: the preview, read-only: the diploma's wording, the number top right, no Marque État nor stamp.
    preview = page.request.get(page.locator("#apercu").get_attribute("href"))
    assert preview.status == 200 and preview.headers["content-type"] == "application/pdf"
    text, words, _ = pdf_text(preview.body())
    assert "Madame ROUSSEAU Élodie, née le 7 juillet 1979 à Bourg-en-Bresse" in text and top_right(words, NUMBER)
    assert "RÉPUBLIQUE FRANÇAISE" not in text
    # « Modifier » goes back to the form as it was; nothing is recorded before the confirmation.
    page.get_by_role("button", name="Modifier").click()
    assert page.get_by_label("Numéro d'origine").input_value() == NUMBER.lower()  # as typed
    page.goto("/agent/impressions/reimpressions")
    assert page.locator("#aucune-reimpression").is_visible()

    page.get_by_role("link", name="Demander une réimpression").click()
    fill(page, **valid(platform))
    page.get_by_role("button", name="Vérifier et voir l'aperçu").click()
    page.get_by_role("button", name="Confirmer la réimpression").click()
    assert flash(page).startswith(f"Réimpression enregistrée pour Madame ROUSSEAU Élodie : diplôme n° {NUMBER} "
                                  f"et sa lettre d'accompagnement.")
    assert "Réimpression d'un diplôme antérieur à CERES" in page.locator(".ceres-mention").first.inner_text()
    documents = [" ".join(text.split()) for text in page.locator("#documents li").all_inner_texts()]
    assert documents[0] == f"Aperçu : Diplôme (PDF, n° {NUMBER}) — nouvelle fenêtre"
    assert documents[1].startswith("Aperçu : Lettre d'accompagnement du diplôme (PDF, n° C")
    checker.check("reimpression-enregistree")
    # P1: the cover letter, numbered top right, names the diploma it goes with.
    letter_link = page.locator("#documents a").nth(1)
    letter_number = letter_link.inner_text().split("n° ")[1].split(")")[0]
    letter, words, _ = pdf_text(page.request.get(letter_link.get_attribute("href")).body())
    assert top_right(words, letter_number)
    assert f"Ce diplôme conserve son numéro d'origine, {NUMBER}, qui figure en haut à droite du document." in letter
    # P3: verified, then sent to print, as any diploma.
    page.locator("label[for=conformes]").click()
    page.get_by_role("button", name="Envoyer pour impression").click()
    assert flash(page) == "Demande d'impression transmise pour Madame ROUSSEAU Élodie."
    page.get_by_role("link", name="Réimpressions", exact=True).first.click()
    (row,) = page.locator("#liste-reimpressions tbody tr").all_inner_texts()
    assert NUMBER in row and "Madame ROUSSEAU Élodie" in row and "14/06/2019" in row
    assert "Demande d'impression transmise le" in row
    checker.check("liste")

    # The same number again: refused next to the field (P8: unique).
    page.get_by_role("link", name="Demander une réimpression").click()
    fill(page, **valid(platform))
    page.get_by_role("button", name="Vérifier et voir l'aperçu").click()
    assert page.locator("#number-erreur").inner_text() == "Ce numéro figure déjà sur un document de CERES."
    checker.check("numero-pris")


def test_p8_reprints_list_sorted_and_by_pages(web, platform, monkeypatch):
    from ceres_gateway.web import agent_printing

    ud01 = {"Authorization": "Bearer " + platform.issuer.issue(f"ud-{uuid.uuid4().hex[:6]}", "ud",
                                                               scope={"departements": ["01"]}, ttl=600)}
    for number in ("A-0003", "A-0001"):
        made = requests.post(f"{platform.urls['printing']}/reprints", headers=ud01, timeout=30,
                             json={**valid(platform), "number": number,
                                   "candidate_id": platform.holder.candidate_id})
        assert made.status_code == 201, made.text
    total = requests.get(f"{platform.urls['printing']}/reprints", headers=ud01, timeout=10).json()["total"]
    monkeypatch.setattr(agent_printing, "REPRINTS_PER_PAGE", 1)
    page, checker = web
    demo_login(page, checker, UD01)
    page.goto("/agent/impressions/reimpressions")
    caption = page.locator("#liste-reimpressions caption").inner_text()
    assert caption == f"{total} réimpressions — tri : dernières enregistrées — page 1 sur {total}"
    assert "A-0001" in page.locator("#liste-reimpressions tbody").inner_text()  # the last one recorded first
    page.get_by_label("Trier par").select_option(label="Numéro d'origine")
    page.get_by_role("button", name="Trier").click()
    assert "A-0001" in page.locator("#liste-reimpressions tbody").inner_text()
    checker.check("tri-numero")
    page.get_by_role("link", name="Page suivante").click()
    assert f"page 2 sur {total}" in page.locator("#liste-reimpressions caption").inner_text()
    assert "A-0003" in page.locator("#liste-reimpressions tbody").inner_text()  # the order is kept across pages
    assert page.get_by_label("Trier par").input_value() == "numero"
    checker.check("tri-page-2")


def test_p8_reprints_only_for_those_who_may_and_b1_page_without_birth_date(web, platform):
    page, checker = web
    demo_login(page, checker, "DGEFP")  # reads nationally, does not request prints
    assert "Réimpressions" not in menu_labels(page)
    assert page.goto("/agent/impressions/reimpressions/nouvelle").status == 403
    checker.check("dgefp-refuse")
    # B1: the code printed on the reprint opens the public page: holder, titre, date — not the birth date (RGPD).
    ud01 = {"Authorization": "Bearer " + platform.issuer.issue(f"ud-{uuid.uuid4().hex[:6]}", "ud",
                                                               scope={"departements": ["01"]}, ttl=600)}
    printing = platform.urls["printing"]
    made = requests.post(f"{printing}/reprints", headers=ud01, timeout=30,
                         json={**valid(platform), "number": "B-0001", "candidate_id": platform.holder.candidate_id})
    assert made.status_code == 201, made.text
    preview = requests.get(f"{printing}/sessions/{made.json()['session_id']}/candidates/"
                           f"{platform.holder.candidate_id}/documents/B-0001/preview", headers=ud01, timeout=60)
    (link,) = {uri for uri in pdf_text(preview.content)[2] if "/verification/" in uri}
    page.context.clear_cookies()
    page.goto(link)
    assert page.locator("#resultat .fr-alert__title").inner_text() == "Document authentique"
    facts = page.locator("#resultat").inner_text()
    assert "Madame ROUSSEAU Élodie" in facts and "Ouvrier du paysage (TP-00463)" in facts
    assert "Date de la décision du jury" in facts and "14 juin 2019" in facts
    assert "1979" not in facts and "né(e)" not in facts and "1979" not in page.content()
    checker.check("verification-publique")
