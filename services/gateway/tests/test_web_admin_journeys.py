"""Journeys of the whole scope and of the platform's people, in Debian's Chromium against the whole platform (five
services on PostgreSQL, events over RabbitMQ, the gateway in front): the demo profiles of the UD 69, the DEETS of La
Réunion and the Afpa; the Afpa's batches and the documents' fate, then the PNDs of a scope corrected by the UD (P6,
B3, P7); the DREETS's agréments to instruct (E7); the administrator's agents' accounts (I4) with a short-lived access
token renewed, then refused once the account is disabled; the forgotten password by the mailed link. Each page: no
console error, no axe-core violation, a screenshot."""
from __future__ import annotations

import hashlib
import io
import json
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_web_agent import DECISIONS, Seeder, flash, web  # noqa: E402,F401  (sessions through their API; the page)
from test_web_centre import last_mail, link_in, log_out  # noqa: E402  (identity's mail drop)
from webplatform import Checker, browser, demo_login, menu_labels, paris_today, start_full_platform, wait_for  # noqa: E402,F401

CHEVALIER = 1  # the candidates demo's CERES id
NEW_PASSWORD = "Nouveau-Mot2passe-solide"
EXPIRED = 12  # seconds: a 1-second access token, and the services' 10 seconds of leeway


@pytest.fixture(scope="module")
def platform(infra, amqp_url, issuer):
    started, close = start_full_platform(infra, amqp_url, issuer)
    identity = started.runtimes["identity"].identity
    # The mails' links open this gateway's pages.
    identity.config = replace(identity.config, public_url=f"{started.url}/api/identity")
    started.sent_before = set(identity.config.mail_dir.glob("*.eml"))
    started.seeder = Seeder(started, issuer)
    yield started
    close()


def afpa_demo_login(page) -> None:
    page.goto("/connexion/demonstration")
    page.locator("label.fr-label", has_text="Opérateur Afpa").click()
    page.get_by_role("button", name="Se connecter avec ce profil").click()
    page.wait_for_url("**/afpa/lots")  # the Afpa has no dashboard: its batches open


def password_login(page, address: str, password: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(address)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Se connecter", exact=True).click()


# --- 1. the demo's profiles (README's table) ----------------------------------------------------------------------
def test_demo_login_offers_the_ud69_the_deets974_and_the_afpa(web):
    page, checker = web
    for label, scope in (("Agent UD du Rhône (69)", "département 69"),
                         ("Agent DEETS de La Réunion (04)", "région 04")):
        demo_login(page, checker, label)
        assert scope in page.locator(".fr-text--lead").inner_text()
        assert "Plis non distribués" in menu_labels(page)
        assert ("Agréments à instruire" in menu_labels(page)) == label.startswith("Agent DEETS")  # E7: the DEETS
        checker.check("tableau-" + label.split()[1].lower())
        log_out(page)
    afpa_demo_login(page)
    # Exactly what printing's policy lets the Afpa do: its batches and the documents' fate.
    assert menu_labels(page) == ["Lots à imprimer", "Sort des plis", "Vérifier un diplôme"]
    assert page.locator("h1").inner_text() == "Lots à imprimer"
    assert page.locator("#aucun-lot").is_visible()
    checker.check("afpa-aucun-lot")
    page.goto("/agent/impressions/plis-non-distribues")  # an agents' page: refused by the page, not only hidden
    assert page.locator("h1").inner_text() == "Accès refusé"
    checker.check("afpa-refuse")


# --- 2. the Afpa's batches, a PND, the UD's follow-up of its scope (P6, B3, P7) -----------------------------------
def test_afpa_receives_a_batch_reports_a_pnd_and_the_ud_corrects_the_address_p7(web, platform):
    page, checker = web
    seeder = platform.seeder
    target = seeder.with_results(DECISIONS)
    seeder.call("POST", f"/sessions/{target['id']}/validation", seeder.ud)
    printing = platform.urls["printing"]
    base = f"{printing}/sessions/{target['id']}/candidates/{CHEVALIER}"
    wait_for(lambda: requests.get(base, headers=seeder.ud, timeout=10).ok, what="printing's documents")
    assert requests.post(f"{base}/verification", json={"conformes": True}, headers=seeder.ud, timeout=10).ok
    assert requests.post(f"{base}/print-requests", json={"kind": "initial"}, headers=seeder.ud, timeout=10).ok
    numbers = [d["number"] for d in requests.get(base, headers=seeder.ud, timeout=10).json()["documents"]]

    afpa_demo_login(page)
    wait_for(lambda: page.reload() and page.locator("#lots tbody tr").count() == 1, timeout=240,
             what="the batch (built after a second here, once its PDFs are rendered)")
    row = page.locator("#lots tbody tr").first
    batch_id = row.locator("a").first.inner_text().split()[0]
    assert row.locator("td").nth(2).inner_text() == "2"  # the diploma and its letter
    checker.check("lot-pret")
    with page.expect_download() as download:
        row.get_by_role("link", name=batch_id).click()
    archive = Path(download.value.path()).read_bytes()
    digest = hashlib.sha256(archive).hexdigest()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(archive)).read("manifest.json"))
    assert sorted(d["document_number"] for d in manifest["documents"]) == sorted(numbers)
    # A wrong checksum: said next to the field of that batch, nothing acknowledged.
    page.get_by_label(f"Empreinte du fichier reçu pour le lot {batch_id}").fill("0" * 64)
    page.get_by_role("button", name=f"Confirmer la réception du lot {batch_id}").click()
    assert page.locator(f"#sha256-{batch_id}-erreur").inner_text() == "Empreinte différente de celle du lot."
    assert page.locator(f"#erreur-formulaire a[href='#sha256-{batch_id}']").is_visible()
    checker.check("empreinte-fausse")
    page.get_by_label(f"Empreinte du fichier reçu pour le lot {batch_id}").fill(digest)
    page.get_by_role("button", name=f"Confirmer la réception du lot {batch_id}").click()
    assert f"Réception du lot {batch_id} confirmée (2 documents)." in flash(page)
    assert page.locator("#aucun-lot").is_visible()

    page.get_by_role("link", name="Sort des plis", exact=True).first.click()
    page.get_by_role("button", name="Enregistrer").click()
    assert page.locator("#batch_id-erreur").inner_text() == "Saisissez le numéro du lot."
    assert page.locator("#status-erreur").inner_text() == "Choisissez ce qu'il est advenu du pli."
    checker.check("sort-incomplet")
    page.get_by_label("Numéro du lot").fill(batch_id)
    page.get_by_label("Numéro du document").fill("D2024-AAAA-BBBB")
    page.get_by_label("Sort du pli").select_option("posted")
    page.get_by_role("button", name="Enregistrer").click()
    assert page.locator("#document_number-erreur").inner_text() == (
        f"Numéro D2024-AAAA-BBBB inconnu dans le lot {batch_id}.")
    checker.check("document-inconnu")
    for number in numbers:
        for status, label in (("posted", "posté"), ("pnd", "pli non distribuable (pnd)")):
            page.get_by_label("Numéro du lot").fill(batch_id)
            page.get_by_label("Numéro du document").fill(number)
            page.get_by_label("Sort du pli").select_option(status)
            page.get_by_role("button", name="Enregistrer").click()
            assert f"Document {number} : {label} enregistré." in flash(page)
    checker.check("pnd-declare")
    log_out(page)

    # Another département's UD: the service gives it nothing of the Ain's PNDs.
    demo_login(page, checker, "Agent UD du Rhône (69)")
    page.get_by_role("link", name="Plis non distribués", exact=True).first.click()
    assert page.locator("#aucun-pnd").is_visible()
    checker.check("ud69-aucun-pnd")
    log_out(page)

    demo_login(page, checker, "Agent UD de l'Ain (01)")
    page.get_by_role("link", name="Plis non distribués", exact=True).first.click()
    listing = page.locator("#liste-pnd")
    assert listing.locator("caption").inner_text() == "1 candidat aux plis non distribués"
    text = listing.locator("tbody tr").first.inner_text()
    assert "Monsieur CHEVALIER Henri" in text and target["public_id"] in text
    assert "Diplôme" in text and "Lettre d'accompagnement du diplôme" in text and numbers[0] in text
    assert f"{paris_today():%d/%m/%Y}" in text
    checker.check("pnd-ud01")
    listing.get_by_role("link", name="Corriger l'adresse de Monsieur CHEVALIER Henri").click()
    page.get_by_label("Adresse (numéro et voie)").fill("3 place des Terreaux")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    assert "L'adresse du candidat est corrigée" in flash(page)
    assert page.locator("h1").inner_text() == "Plis non distribués"  # back to the follow-up
    # P7: candidate.updated reaches printing, which has the same documents sent again: the PND is dealt with.
    wait_for(lambda: page.reload() and page.locator("#aucun-pnd").count() == 1, timeout=30, what="the resend")
    checker.check("pnd-traite")
    state = requests.get(base, headers=seeder.ud, timeout=10).json()
    assert [r["kind"] for r in state["requests"]] == ["initial", "resend"] and state["duplicata_count"] == 0


# --- 3. agréments to instruct (E7) --------------------------------------------------------------------------------
def test_dreets_instructs_the_regions_requests_from_its_queue_e7(web):
    page, checker = web
    demo_login(page, checker, "Agent UD de l'Ain (01)")
    assert "Agréments à instruire" not in menu_labels(page)  # E7 is decided by the DREETS
    page.goto("/agent/agrements/a-instruire")
    assert page.locator("h1").inner_text() == "Accès refusé"
    log_out(page)

    demo_login(page, checker, "Agent DREETS Auvergne-Rhône-Alpes (84)")
    page.get_by_role("link", name="Agréments à instruire", exact=True).first.click()
    rows = page.locator("#agrements-a-instruire tbody tr")
    assert page.locator("#agrements-a-instruire caption").inner_text() == "2 demandes en cours d'instruction"
    assert "Institut lyonnais — Lyon 3e" in rows.nth(0).inner_text()  # oldest first
    assert "Revermont — Bourg-en-Bresse" in rows.nth(1).inner_text()
    assert "Assistant(e) de vie aux familles" in rows.nth(0).inner_text()
    checker.check("file")
    rows.nth(0).get_by_role("link", name="Accorder l'agrément TP-00391 du site Institut lyonnais — Lyon 3e").click()
    page.get_by_label("Accordé à partir du").fill(paris_today().isoformat())
    page.get_by_label("Jusqu'au").fill("2027-03-15")
    checker.check("accorder")
    page.get_by_role("button", name="Confirmer : accorder").click()
    assert "Agrément TP-00391 : accordé." in flash(page)
    assert page.locator("h1").inner_text() == "Agréments à instruire"  # back to the queue
    assert page.locator("#agrements-a-instruire tbody tr").count() == 1
    page.get_by_role("link", name="Refuser l'agrément TP-00391 du site Revermont — Bourg-en-Bresse").click()
    page.get_by_role("button", name="Confirmer : refuser").click()
    assert page.locator("#reason-erreur").inner_text() == "Le motif est obligatoire."
    checker.check("refus-sans-motif")
    page.get_by_label("Motif (obligatoire)").fill("Plateau technique insuffisant")
    page.get_by_role("button", name="Confirmer : refuser").click()
    assert "Agrément TP-00391 : refusé." in flash(page)
    assert page.locator("#aucune-demande").is_visible()
    checker.check("file-vide")
    log_out(page)

    # La Réunion's DEETS: its own région's request only.
    demo_login(page, checker, "Agent DEETS de La Réunion (04)")
    page.get_by_role("link", name="Agréments à instruire", exact=True).first.click()
    rows = page.locator("#agrements-a-instruire tbody tr")
    assert rows.count() == 1 and "Lycée de l'Est — Saint-Pierre" in rows.first.inner_text()
    checker.check("file-deets")


# --- 4. agents' accounts (I4), a renewed access token, a disabled account (session end in French) -----------------
def test_admin_creates_an_agent_whose_token_is_renewed_then_disables_it_i4(web, browser, platform):
    page, checker = web
    identity = platform.runtimes["identity"].identity
    demo_login(page, checker, "Administrateur")
    page.get_by_role("link", name="Comptes agents", exact=True).first.click()
    assert "ud69@ceres.demo" in page.locator("#comptes").inner_text()
    # The administrator's long menu wraps: nothing wider than the window.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    checker.check("liste")
    page.get_by_role("link", name="Créer un compte agent").click()
    page.get_by_label("Civilité").select_option("M")
    page.locator("#nom").fill("Bresse")
    page.get_by_label("Prénom").fill("Paul")
    page.get_by_label("Adresse électronique").fill("paul.bresse@")
    page.get_by_label("Profil", exact=True).select_option("dreets")
    page.get_by_label("Région (DREETS ou DEETS)").fill("04")
    page.get_by_role("button", name="Créer le compte").click()
    # identity's words, each next to its field, and in the summary linking to it.
    assert page.locator("#email-erreur").is_visible()
    assert page.get_by_label("Adresse électronique").get_attribute("aria-invalid") == "true"
    checker.check("courriel-invalide")
    page.get_by_label("Adresse électronique").fill("paul.bresse@travail.gouv.fr")
    page.get_by_role("button", name="Créer le compte").click()
    assert page.locator("#regions-erreur").inner_text() == "Outre-mer, le profil est DEETS."
    assert page.locator("#erreur-formulaire a[href='#regions']").is_visible()
    checker.check("region-outre-mer")
    page.get_by_label("Profil", exact=True).select_option("ud")
    page.get_by_label("Région (DREETS ou DEETS)").fill("")
    page.get_by_label("Départements (UD)").fill("69")
    page.get_by_role("button", name="Créer le compte").click()
    assert "Le compte de Paul Bresse (paul.bresse@travail.gouv.fr) est créé" in flash(page)
    row = page.locator("#comptes tbody tr", has_text="paul.bresse@travail.gouv.fr")
    assert "département 69" in row.inner_text() and "en attente du mot de passe" in row.inner_text().lower()
    checker.check("cree")

    # The new agent follows the mailed link, chooses a password, signs in — with a 1-second access token.
    link = link_in(last_mail(platform, "paul.bresse@travail.gouv.fr", "Votre compte agent CERES"))
    assert link.startswith(f"{platform.url}/mot-de-passe/nouveau?token=")
    agent_context = browser.new_context(base_url=platform.url, locale="fr-FR")
    agent = agent_context.new_page()
    agent.set_default_timeout(10_000)
    agent_checker = Checker(agent, "agent-nouvel-agent")
    saved = identity.config
    try:
        agent.goto(link)
        agent.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
        agent.get_by_label("Confirmation du mot de passe").fill(NEW_PASSWORD)
        agent.get_by_role("button", name="Enregistrer le mot de passe").click()
        assert "Votre mot de passe est enregistré" in flash(agent)
        identity.config = replace(saved, access_ttl=1)
        password_login(agent, "paul.bresse@travail.gouv.fr", NEW_PASSWORD)
        agent.wait_for_url("**/tableau-de-bord")
        assert "département 69" in agent.locator(".fr-text--lead").inner_text()
        agent_checker.check("connecte")
        time.sleep(EXPIRED)
        # The access token has expired. Two pages of the same browser at once hold the same single-use refresh
        # token: both open (the second gets the pair the first obtained; a replay would end the log-in).
        cookies = {c["name"]: c["value"] for c in agent_context.cookies()}
        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(lambda _: requests.get(f"{platform.url}/agent/sessions", cookies=cookies, timeout=30,
                                                        allow_redirects=False).status_code, range(2))) == [200, 200]
        # The browser, still with that cookie: the gateway renews its token; the page just opens.
        agent.get_by_role("link", name="Sessions", exact=True).first.click()
        assert agent.url.endswith("/agent/sessions") and agent.locator("h1").inner_text() != "Connexion"
        assert "Votre session a expiré" not in agent.locator("main").inner_text()
        agent_checker.check("jeton-renouvele")

        # The administrator disables the account, after a confirmation.
        page.reload()
        page.get_by_role("link", name="Désactiver le compte de Paul Bresse").click()
        assert "Confirmez la désactivation" in page.locator("#confirmation").inner_text()
        assert "paul.bresse@travail.gouv.fr" in page.locator("#compte").inner_text()
        checker.check("confirmation")
        page.get_by_role("button", name="Confirmer la désactivation").click()
        assert "Le compte de Paul Bresse est désactivé." in flash(page)
        assert "désactivé" in page.locator("#comptes tbody tr", has_text="paul.bresse@").inner_text().lower()
        checker.check("desactive")

        # The agent's token expires again and cannot be renewed: the log-in page, in French, never a raw 401.
        time.sleep(EXPIRED)
        agent.get_by_role("link", name="Impressions", exact=True).first.click()
        agent.wait_for_url("**/connexion?suivant=/agent/impressions")
        assert "Votre session a expiré : veuillez vous reconnecter." in agent.locator("main").inner_text()
        agent_checker.check("session-expiree")
        identity.config = saved
        password_login(agent, "paul.bresse@travail.gouv.fr", NEW_PASSWORD)
        assert "Ce compte est désactivé." in agent.locator("#erreur-formulaire").inner_text()
        agent_checker.check("compte-desactive")
    finally:
        identity.config = saved
        agent_context.close()
    page.get_by_role("button", name="Réactiver le compte de Paul Bresse").click()
    assert "Le compte de Paul Bresse est réactivé." in flash(page)
    checker.check("reactive")


# --- 5. the forgotten password, by the mailed link (identity's link opens the gateway's page) --------------------
def test_forgotten_password_by_the_mailed_link_then_log_in(web, platform):
    page, checker = web
    page.goto("/connexion")
    page.get_by_role("link", name="Mot de passe oublié ?").click()
    page.get_by_role("button", name="Recevoir un lien").click()
    assert page.locator("#email-erreur").inner_text() == "Saisissez l'adresse électronique de votre compte."
    checker.check("adresse-manquante")
    page.get_by_label("Adresse électronique").fill("deets974@ceres.demo")
    page.get_by_role("button", name="Recevoir un lien").click()
    assert page.locator("#demande-envoyee").is_visible()
    checker.check("demande-envoyee")

    link = link_in(last_mail(platform, "deets974@ceres.demo", "Réinitialisation de votre mot de passe CERES"))
    assert link.startswith(f"{platform.url}/mot-de-passe/nouveau?token=")
    page.goto(link)
    assert page.locator("h1").inner_text() == "Choisir un nouveau mot de passe"
    checker.check("formulaire")
    page.get_by_label("Nouveau mot de passe").fill("court")
    page.get_by_label("Confirmation du mot de passe").fill("autre")
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    # identity's rules, field by field.
    assert "au moins 12 caractères" in page.locator("#password-erreur").inner_text()
    assert page.locator("#password_confirmation-erreur").inner_text() == (
        "Les deux mots de passe ne sont pas identiques.")
    checker.check("mot-de-passe-refuse")
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    page.wait_for_url("**/connexion")
    assert "Votre mot de passe est enregistré" in flash(page)
    password_login(page, "deets974@ceres.demo", NEW_PASSWORD)
    page.wait_for_url("**/tableau-de-bord")
    assert "région 04" in page.locator(".fr-text--lead").inner_text()
    checker.check("connecte")
    log_out(page)
    # The link serves once; a link mailed before the change (identity's API address) opens the same page.
    page.goto(link)
    page.get_by_label("Nouveau mot de passe").fill(NEW_PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Enregistrer le mot de passe").click()
    assert page.locator("#erreur-formulaire").is_visible() and page.get_by_label("Nouveau mot de passe").count() == 0
    checker.check("lien-utilise")
    token = link.split("token=")[1]
    page.goto(f"/api/identity/auth/password-reset?token={token}")
    assert page.url.endswith(f"/mot-de-passe/nouveau?token={token}")
