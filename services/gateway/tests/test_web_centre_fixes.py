"""The gaps a review found in the web pages, closed and driven in Debian's Chromium against the whole platform (five
services on PostgreSQL and RabbitMQ, the gateway in front): a centre's candidate record complete enough to be
printed and posted (C2, P6), results read back before they are saved (S8), document numbers with slashes and dots
(P8) on the public verification (B1) and the preview, French dates, figures and labels, sites by pages, the
activation letter from the centre's page, and a form sent after the session expired. Each page: no console error,
axe-core, a screenshot."""
from __future__ import annotations

import re
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_web_journeys import browser, web  # noqa: E402,F401  (fixtures: Chromium, a fresh context per test)
from test_web_centre import fill_person  # noqa: E402  (the new-candidate form)
from webplatform import demo_login, start_full_platform, wait_for  # noqa: E402

CENTRE = "Centre de formation (GRETA de l'Ain)"
DREETS = "Agent DREETS Auvergne-Rhône-Alpes (84)"
ROUSSEAU = 8  # a demo candidate born in Bourg-en-Bresse (01), whose diploma of 2019 predates CERES here
REPRINT_NUMBER = "TP-2014/001.00042"  # P8: an original number, as printed on the parchment


@pytest.fixture(scope="module")
def platform(infra, amqp_url, issuer):
    started, close = start_full_platform(infra, amqp_url, issuer)
    yield started
    close()


@pytest.fixture(scope="module")
def reprint(platform, issuer) -> dict:
    """P8 through printing's API, as the UD of the Ain would request it: the 2019 diploma of a candidate, under its
    original number; and the code printed under its QR code (B1), signed with printing's current key."""
    from ceres_printing import verification

    ud01 = {"Authorization": f"Bearer {issuer.issue('ud01-test', 'ud', scope={'departements': ['01']})}"}
    made = requests.post(f"{platform.urls['printing']}/reprints", headers=ud01, timeout=30, json={
        "number": REPRINT_NUMBER.lower(), "candidate_id": ROUSSEAU, "titre_code": "TP-00463",
        "titre_version": "2018-09-20", "issued_on": "2019-06-14", "departement": "01"})
    assert made.status_code == 201, made.text
    with platform.runtimes["printing"].session_factory.begin() as session:
        code = verification.sign(verification.current_key(session, datetime.now(timezone.utc)), REPRINT_NUMBER)
    return {**made.json(), "code": code}


def flash(page, kind: str = "success") -> str:
    return page.locator(f".fr-alert--{kind}").first.inner_text()


def candidate_row(platform, candidate_id: int):
    from ceres_candidates.models import Candidate

    with platform.runtimes["candidates"].session_factory() as session:
        return session.get(Candidate, candidate_id)


def printing_address(platform, candidate_id: int):
    """What printing holds of the candidate's address (by event): without it a print request is refused (P6)."""
    from ceres_printing.models import CandidateCopy

    with platform.runtimes["printing"].session_factory() as session:
        copy = session.get(CandidateCopy, candidate_id)
        return copy.address if copy else None


def spoil_tokens(context) -> None:
    """The tokens of the browser's session as identity would now refuse them (access token expired, refresh token
    revoked): the session cookie signed again with the gateway's key, its tokens replaced."""
    from flask import Flask

    from ceres_gateway.web.security import TlsAwareSessionInterface, secret_key

    app = Flask("cookie")
    app.secret_key = secret_key()
    serializer = TlsAwareSessionInterface().get_signing_serializer(app)  # the gateway's cookie is sealed
    cookie = next(c for c in context.cookies() if c["name"] == "ceres_session")
    data = serializer.loads(cookie["value"])
    data.update(token="jeton-expire", refresh="jeton-revoque")
    context.add_cookies([{**cookie, "value": serializer.dumps(data)}])


def new_centre_session(page, checker, days: int = 130) -> str:
    """The GRETA of the Ain signs in and creates a session starting in `days` days: its page's URL."""
    demo_login(page, checker, CENTRE)
    page.goto("/centre/sessions/nouvelle")
    page.get_by_label("Site et titre").select_option(index=1)
    page.get_by_label("Date de début").fill((date.today() + timedelta(days=days)).isoformat())
    page.get_by_role("button", name="Créer la session").click()
    page.wait_for_url(re.compile(r".*/centre/sessions/[0-9a-f-]{36}$"))
    return page.url


def test_centre_completes_candidates_records_then_reads_results_back_c2_p6_s8(web, platform):
    from sqlalchemy import select

    from ceres_sessions.models import Enrolment

    page, checker = web
    session_url = new_centre_session(page, checker)
    session_id = session_url.rsplit("/", 1)[1]

    # C2: birth country from INSEE's list (no code to type), nom d'usage, address, email, phone — each refused
    # field shown next to itself, in the service's French words.
    page.get_by_role("link", name="Inscrire des candidats").click()
    form = page.locator("#nouveau-candidat")
    assert form.get_by_label("Pays de naissance").input_value() == "99100"  # France by default
    assert "MAROC" in form.locator("#birth_country_code option").all_inner_texts()
    fill_person(page, "F", "Garnier", "Inès", "1993-04-02")
    form.get_by_label("Nom d'usage").fill("Morel")
    form.get_by_label("Pays de naissance").select_option(label="MAROC")
    form.get_by_label("Numéro et voie").fill("12 rue des Lilas")
    form.get_by_label("Code postal", exact=True).fill("01000")
    form.get_by_label("Commune (adresse en France)").fill("01999")
    form.get_by_label("Adresse électronique").fill("ines.morel@")
    form.get_by_label("Téléphone").fill("pas un numéro")
    page.get_by_role("button", name="Créer et inscrire").click()
    # C3: the commune typed is resolved by the gateway first (a name, a postcode or a code): none is 01999
    assert page.locator("#address-commune_code-erreur").inner_text().startswith(
        "Aucune commune ne correspond à « 01999 »")
    assert form.get_by_label("Pays de naissance").input_value() == "99350"  # what was chosen stays
    checker.check("commune-inconnue")
    form.get_by_label("Commune (adresse en France)").fill("Bourg-en-Bresse")
    page.get_by_role("button", name="Créer et inscrire").click()
    assert page.locator("#email-erreur").inner_text() == "Adresse électronique invalide."
    assert page.locator("#phone-erreur").inner_text() == "Numéro de téléphone invalide."
    assert page.locator("#erreur-formulaire a[href='#email']").count() == 1
    assert form.get_by_label("Commune (adresse en France)").input_value() == "Bourg-en-Bresse"
    checker.check("champs-refuses")
    form.get_by_label("Adresse électronique").fill("ines.morel@example.fr")
    form.get_by_label("Téléphone").fill("06 12 34 56 78")
    page.get_by_role("button", name="Créer et inscrire").click()
    created = re.search(r"Le dossier n° (\d+) \(GARNIER Inès\) est créé et inscrit", flash(page), re.I)
    assert created and page.locator(".fr-alert--warning").count() == 0
    garnier = int(created.group(1))
    record = candidate_row(platform, garnier)
    assert (record.nom_usage, record.birth_country_code, record.email) == ("Morel", "99350", "ines.morel@example.fr")
    assert record.address_lines == ["12 rue des Lilas"] and record.address_commune_label == "Bourg-en-Bresse"
    assert wait_for(lambda: printing_address(platform, garnier), what="printing's copy of the address")[
        "code_postal"] == "01000"

    # A record created without an address is flagged, then completed from the session's page (P6).
    page.get_by_role("link", name="Inscrire des candidats").click()
    fill_person(page, "M", "Perrin", "Paul", "1990-01-01", "01053")
    page.get_by_role("button", name="Créer et inscrire").click()
    assert "Ce dossier n'a pas d'adresse postale" in flash(page, "warning")
    checker.check("sans-adresse")
    page.get_by_role("link", name=re.compile("Compléter le dossier : PERRIN Paul", re.I)).click()
    assert page.locator("#adresse-manquante").is_visible()
    perrin = int(re.search(r"/candidats/(\d+)/dossier", page.url).group(1))
    page.get_by_role("button", name="Enregistrer le dossier").click()
    assert "Saisissez l'adresse postale" in page.locator("#address-lines-0-erreur").inner_text()
    checker.check("adresse-requise")
    page.get_by_label("Numéro et voie").fill("3 place Carriat")
    page.get_by_label("Code postal", exact=True).fill("01000")
    page.get_by_label("Commune (adresse en France)").fill("01053")
    page.get_by_role("button", name="Enregistrer le dossier").click()
    assert re.search(rf"Le dossier n° {perrin} \(perrin\) est complété\.", flash(page), re.I)
    assert candidate_row(platform, perrin).address_lines == ["3 place Carriat"]
    wait_for(lambda: printing_address(platform, perrin), what="printing's copy of the completed address")
    checker.check("dossier-complete")

    # S8: results are read back before they are saved; nothing reaches the service until the confirmation.
    GARNIER = re.compile("morel", re.I)  # noqa: N806  (the sessions service names her by her nom d'usage)
    page.goto(f"{session_url}/resultats")
    page.locator("fieldset", has_text=GARNIER).locator("label", has_text="Titre obtenu").click()
    page.get_by_role("button", name="Enregistrer les résultats").click()
    recap = page.locator("#recapitulatif tbody").inner_text()
    assert "Titre obtenu" in recap and "non saisie" in recap
    assert "perrin" in page.locator("#sans-decision").inner_text().lower()
    assert "ne pourront plus être modifiés" in page.locator("#confirmation").inner_text()
    checker.check("resultats-a-confirmer")
    with platform.runtimes["sessions"].session_factory() as session:
        assert not [e.decision for e in session.scalars(select(Enrolment).where(Enrolment.session_id == session_id))
                    if e.decision]
    page.get_by_role("button", name="Modifier les résultats").click()
    assert page.locator("fieldset", has_text=GARNIER).locator("input[value=titre]").is_checked()
    page.get_by_role("button", name="Enregistrer les résultats").click()
    page.get_by_role("button", name="Confirmer et enregistrer les résultats").click()
    # The service decides: a session « en préparation » takes no results; its reason, in the page.
    assert page.locator("#erreur-formulaire").is_visible() and page.locator("#resultats").is_visible()
    checker.check("resultats-refuses")


def test_verification_and_preview_of_a_number_with_slashes_p8_b1(web, platform, reprint):
    page, checker = web
    # An unknown number of that shape reaches printing, which answers « not genuine » — not a routing 404.
    answer = page.goto("/verification/2009/01.234?code=abc")
    assert answer.status == 404 and page.locator("h1").inner_text() == "Vérifier un diplôme du titre professionnel"
    assert "ne correspondent à aucun document délivré" in page.locator("#resultat").inner_text()
    assert page.get_by_label("Numéro du document").input_value() == "2009/01.234"
    checker.check("numero-inconnu")
    answer = page.goto("/verification/AB..12?code=abc")  # not a number's shape: refused here, in French
    assert answer.status == 422
    assert "tiret, une barre oblique ou un point" in page.locator("#numero-erreur").inner_text()
    checker.check("numero-invalide")
    # The reprint's QR code opens the page; dates in French (« 14 juin 2019 »).
    page.goto(f"/verification/{REPRINT_NUMBER}?code={reprint['code']}")
    facts = page.locator("#resultat").inner_text()
    assert "Document authentique" in facts and REPRINT_NUMBER in facts
    assert "14 juin 2019" in facts and "Madame ROUSSEAU Élodie" in facts
    assert "1979" not in facts and "né(e)" not in facts  # B1: no birth date for the public (RGPD minimisation)
    checker.check("authentique")
    page.goto("/verification")  # typed by hand, in small letters: the same document
    page.get_by_label("Numéro du document").fill(REPRINT_NUMBER.lower())
    page.get_by_label("Code de vérification").fill(reprint["code"])
    page.get_by_role("button", name="Vérifier").click()
    assert "Document authentique" in page.locator("#resultat").inner_text()


def test_form_sent_after_the_session_expired_comes_back_to_its_page(web, platform, reprint):
    from ceres_identity.demo import DEMO_PASSWORD

    page, checker = web
    candidate_page = f"/agent/impressions/sessions/{reprint['session_id']}/candidats/{ROUSSEAU}"

    def sign_in():
        page.get_by_label("Adresse électronique").fill("ud01@ceres.demo")
        page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Se connecter", exact=True).click()

    page.goto(candidate_page)
    page.wait_for_url("**/connexion?suivant=**")
    sign_in()
    page.wait_for_url(f"**{candidate_page}")
    # P2, P8: the preview of a number holding slashes and dots.
    preview = page.locator("#documents a", has_text=f"n° {REPRINT_NUMBER}")
    assert preview.get_attribute("href").endswith(f"/documents/{REPRINT_NUMBER}.pdf")
    pdf = page.request.get(preview.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    checker.check("candidat")
    # An action's address opened as a page leads to the page of its form, not to « Action impossible ».
    page.goto(f"{candidate_page}/demande")
    assert page.url.endswith(candidate_page) and page.locator("h1").inner_text() == "Madame ROUSSEAU Élodie"

    spoil_tokens(page.context)
    page.locator("label[for=conformes]").click()
    page.get_by_role("button", name="Envoyer pour impression").click()
    page.wait_for_url("**/connexion?suivant=**")
    assert "Votre session a expiré : veuillez vous reconnecter, puis envoyer à nouveau le formulaire." in page.locator(
        "main").inner_text()
    checker.check("session-expiree")
    sign_in()
    page.wait_for_url(f"**{candidate_page}")  # the page of the form, not the action's address (405)
    assert page.locator("h1").inner_text() == "Madame ROUSSEAU Élodie"
    assert page.get_by_role("button", name="Envoyer pour impression").is_visible()
    checker.check("de-retour")


def test_french_labels_pages_of_sites_and_the_activation_letter_from_the_centre(web, platform, monkeypatch):
    from ceres_gateway.web import agent_agrements, establishments

    page, checker = web
    monkeypatch.setattr(establishments, "SITES_PER_PAGE", 1)  # the demo's few sites, one a page
    monkeypatch.setattr(agent_agrements, "SITES_PER_PAGE", 1)
    demo_login(page, checker, DREETS)
    page.goto("/centres?q=lyonnais")
    type_cell = page.locator("#resultats tbody tr").first.locator("td").last.inner_text()
    assert type_cell == "Centre de formation d'apprentis (CFA)"  # E3's label, not the code « CFA »
    page.get_by_role("link", name="Sites (2)").click()
    checker.check("recherche-sites")
    site = page.locator("#resultats tbody tr a").first
    site_name = site.inner_text()
    site.click()  # the site opens the centre's page at the page of its sites holding it
    assert page.locator("#sites tbody tr").count() == 1 and site_name in page.locator("#sites").inner_text()
    assert "page" in page.locator("#sites caption").inner_text()
    page.locator(".fr-pagination__link[href]:not([aria-current])").filter(has_text=re.compile(r"^\d+$")).first.click()
    assert site_name not in page.locator("#sites tbody").inner_text()  # the other page: the other site
    checker.check("sites-par-pages")
    # I2: the activation code and its letter, from the centre's page too.
    page.get_by_role("link", name="Code et courrier d'activation de INSTITUT LYONNAIS").click()
    assert "41822976100014" in page.locator("#code-activation").inner_text()
    checker.check("code-activation")
    # E7: the agrément search, by pages.
    page.goto("/agent/agrements?q=lyonnais")
    assert page.locator("#sites tbody tr").count() == 1
    assert page.locator("#sites caption").inner_text() == "Sites (2) — page 1 sur 2"
    page.get_by_role("link", name="Page suivante").click()
    assert page.locator("#sites tbody tr").count() == 1 and "page=2" in page.url
    checker.check("agrements-par-pages")
