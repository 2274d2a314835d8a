"""What a review of the agents' pages found, checked in Debian's Chromium against the whole platform: pages refused
to the roles the menu hides them from; no redirect after log-in (« suivant ») or « retour » link to another host;
a mass operation applies only the sessions previewed, its progress page reloads itself until done (S9); a titres
import after its dry run and a confirmation; a relaxation period opened after a confirmation (S4); the address
correction keeps the candidate's country and shows the step that failed (P7, C4). Each page: no console error,
no axe-core violation, a screenshot."""
from __future__ import annotations

import json
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_web_agent import Seeder, flash, web  # noqa: E402,F401  (sessions through their API; the page)
from webplatform import browser, demo_login, menu_labels, start_full_platform, wait_for  # noqa: E402,F401

HOSTILE = ("/\\evil.example", "//evil.example", "/%5Cevil.example", "https://evil.example/", "/\t/evil.example",
           "/\n/evil.example")


@pytest.fixture(scope="module")
def platform(infra, amqp_url, issuer):
    started, close = start_full_platform(infra, amqp_url, issuer)
    started.seeder = Seeder(started, issuer)
    started.admin = Seeder._auth(issuer, "admin", national=True)
    started.dgefp = Seeder._auth(issuer, "dgefp", national=True)
    yield started
    close()


def test_a_ud_is_refused_the_pages_its_menu_does_not_show(web):
    page, checker = web
    demo_login(page, checker, "Agent UD de l'Ain (01)")
    labels = menu_labels(page)
    assert not {"Titres", "Assouplissements", "Opérations de masse", "Comptes agents"} & set(labels)
    for path in ("/agent/titres", "/agent/assouplissements", "/agent/titres/TP-00463/2018-09-20",
                 "/agent/operations-masse"):
        answer = page.goto(path)
        assert answer.status == 403, path
        assert page.locator("h1").inner_text() == "Accès refusé"
        assert "Votre rôle ne permet pas d'ouvrir cette page." in page.locator("main").inner_text()
    checker.check("ud-refuse")


def test_after_log_in_and_on_retour_links_only_local_paths_are_followed(platform, web):
    http = requests.Session()

    def log_in(target: str) -> str:
        form = http.get(f"{platform.url}/connexion", params={"suivant": target}, timeout=15).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        answer = http.post(f"{platform.url}/connexion", allow_redirects=False, timeout=15, data={
            "csrf_token": token, "email": "admin@ceres.demo", "password": "Ceres-demo-2024!", "suivant": target})
        assert answer.status_code == 302, (target, answer.status_code)
        return answer.headers["Location"]  # the next log-in starts a new session (identity's pair replaced)

    assert log_in("/agent/sessions?page=2") == "/agent/sessions?page=2"
    for target in HOSTILE:
        assert log_in(target) == "/tableau-de-bord", target
    # « retour » of the address correction: its « Annuler » link and the redirect after saving stay here.
    page, checker = web
    demo_login(page, checker, "Administrateur")
    for target in HOSTILE[:3]:
        page.goto("/agent/candidats/9/adresse?" + urlencode({"retour": target}))
        assert page.get_by_role("link", name="Annuler").get_attribute("href") == "/tableau-de-bord"
    checker.check("retour-local")


def test_a_mass_operation_applies_only_the_sessions_previewed_and_its_progress_reloads_itself_s9(web, platform):
    from ceres_sessions.models import ExamSession
    from sqlalchemy import select

    seeder, page, checker = platform.seeder, *web
    first_day = date.today() + timedelta(days=240)
    ids = [seeder.future(240)["id"], seeder.future(241)["id"]]
    demo_login(page, checker, "Administrateur")
    page.get_by_role("link", name="Opérations de masse", exact=True).first.click()
    page.locator("label[for=statut-en_preparation]").click()
    page.get_by_label("Début à partir du").fill(first_day.isoformat())
    page.get_by_label("Début jusqu'au").fill((first_day + timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Voir les sessions concernées (aperçu)").click()
    assert "Aperçu : 2 sessions concernées" in page.locator("#apercu").inner_text()
    page.get_by_label("Opération").select_option("annuler")
    page.get_by_label("Motif (obligatoire)").fill("Fermeture du site")

    # Criteria changed after the preview: the new preview, nothing applied.
    page.get_by_label("Début jusqu'au").fill(first_day.isoformat())
    page.get_by_role("button", name="Appliquer aux 2 sessions").click()
    assert "Les critères ont changé depuis l'aperçu" in page.locator("#apercu-change").inner_text()
    assert "Aperçu : 1 session concernée" in page.locator("#apercu").inner_text()
    checker.check("criteres-changes")
    statuses = {seeder.call("GET", f"/sessions/{sid}", seeder.ud)["status"] for sid in ids}
    assert statuses == {"en_preparation"}

    # A session more since the preview (same criteria): the service refuses, the new preview is shown.
    page.get_by_label("Début jusqu'au").fill((first_day + timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Mettre à jour l'aperçu").click()
    assert "Aperçu : 2 sessions concernées" in page.locator("#apercu").inner_text()
    ids.append(seeder.future(242)["id"])
    page.get_by_label("Opération").select_option("annuler")
    page.get_by_label("Motif (obligatoire)").fill("Fermeture du site")
    page.get_by_role("button", name="Appliquer aux 2 sessions").click()
    assert "Les sessions concernées ont changé depuis l'aperçu" in page.locator("#apercu-change").inner_text()
    assert "Aperçu : 3 sessions concernées" in page.locator("#apercu").inner_text()
    checker.check("selection-changee")
    assert {seeder.call("GET", f"/sessions/{sid}", seeder.ud)["status"] for sid in ids} == {"en_preparation"}

    # Applied to the 3 previewed; the worker is held on a lock of those sessions, so the page shows it running.
    sessions_rt = platform.runtimes["sessions"]
    with sessions_rt.session_factory() as held:
        held.execute(select(ExamSession.id).where(ExamSession.id.in_(ids)).with_for_update())
        page.get_by_label("Opération").select_option("annuler")
        page.get_by_label("Motif (obligatoire)").fill("Fermeture du site")
        page.get_by_role("button", name="Appliquer aux 3 sessions").click()
        page.wait_for_url("**/agent/operations-masse/*")
        progress_url = page.url
        assert "en cours" in page.locator("#etat").inner_text()
        assert page.locator("label[for=barre]").inner_text() == "Progression : 0 %"
        assert page.request.get(progress_url).headers.get("refresh") == "5"
        checker.check("en-cours")
        page.get_by_role("link", name="Arrêter l'actualisation automatique").click()
        assert "L'actualisation automatique est arrêtée." in page.locator("#en-cours").inner_text()
        assert "refresh" not in page.request.get(page.url).headers
        checker.check("actualisation-arretee")
        page.get_by_role("link", name="Reprendre l'actualisation automatique").click()
        held.rollback()  # the worker goes on
    # Nobody reloads: the page does, until the operation is done, then stops.
    page.locator("#terminee").wait_for(timeout=20_000)
    assert "3 sessions traitées" in page.locator("#etat").inner_text()
    assert page.locator("#barre").get_attribute("value") == "100.0"
    assert "refresh" not in page.request.get(progress_url).headers
    checker.check("terminee")
    assert {seeder.call("GET", f"/sessions/{sid}", seeder.ud)["status"] for sid in ids} == {"annulee"}

    # S4: a relaxation period is opened only after its confirmation page.
    page.get_by_role("link", name="Assouplissements", exact=True).first.click()
    page.get_by_label("Du").fill("2031-05-01")
    page.get_by_label("Au").fill("2031-05-31")
    page.get_by_label("Motif (obligatoire)").fill("Intempéries")
    page.get_by_role("button", name="Ouvrir la période").click()
    assert page.locator("h1").inner_text() == "Confirmer l'ouverture d'une période d'assouplissement"
    assert "01/05/2031" in page.locator("#periode").inner_text() and "Intempéries" in page.locator("#periode").inner_text()
    checker.check("assouplissement-confirmation")
    assert not any(p["reason"] == "Intempéries" for p in seeder.call("GET", "/assouplissements", platform.admin))
    page.get_by_role("button", name="Modifier").click()
    assert page.get_by_label("Au").input_value() == "2031-05-31"
    page.get_by_label("Au").fill("2031-06-15")
    page.get_by_role("button", name="Ouvrir la période").click()
    page.get_by_role("button", name="Confirmer l'ouverture de la période").click()
    assert "La période d'assouplissement est ouverte." in flash(page)
    opened = [p for p in seeder.call("GET", "/assouplissements", platform.admin) if p["reason"] == "Intempéries"]
    assert [(p["starts_on"], p["ends_on"]) for p in opened] == [("2031-05-01", "2031-06-15")]


def test_a_titres_import_is_confirmed_after_its_dry_run(web, platform):
    page, checker = web
    seeder = platform.seeder
    vendeur = {"code": "TP-00344", "version_date": "2017-12-14", "libelle": "Vendeur-conseil en magasin (rénové)",
               "kind": "TP", "level": 4, "nsf_codes": ["312t"], "rncp": "RNCP13620", "jo_date": "2017-12-22",
               "end_of_validity": "2027-12-22",
               "ccps": [{"code": "TP-00344-CCP1", "libelle": "Développer sa connaissance des produits et contribuer "
                                                             "à l'animation de l'espace de vente"},
                        {"code": "TP-00344-CCP2", "libelle": "Améliorer l'expérience client dans un environnement "
                                                             "omnicanal"}]}
    nouveau = {"code": "TP-07301", "version_date": "2024-03-01", "libelle": "Agent(e) d'essai du web", "kind": "TP",
               "level": 3, "nsf_codes": ["214r"], "ccps": []}
    demo_login(page, checker, "DGEFP")
    page.get_by_role("link", name="Titres", exact=True).first.click()
    page.get_by_label("Fichier du catalogue").set_input_files(files=[{
        "name": "catalogue.json", "mimeType": "application/json", "buffer": json.dumps([vendeur, nouveau]).encode()}])
    page.get_by_role("button", name="Importer").click()
    assert page.locator("h1").inner_text() == "Vérifier l'import du catalogue"
    rows = page.locator("#changements tbody tr").all_inner_texts()
    assert any("TP-00344" in r and "Version modifiée : libellé" in r for r in rows)
    assert any("TP-07301" in r and "Nouvelle version publiée" in r for r in rows)
    checker.check("import-apercu")
    assert requests.get(f"{platform.urls['sessions']}/titres/TP-07301", headers=platform.dgefp,
                        timeout=15).status_code == 404  # the dry run wrote nothing

    # Meanwhile someone imports the new titre: the confirmation shows what the file would do now.
    seeder.call("POST", "/titres/import", platform.dgefp, [nouveau])
    page.get_by_role("button", name="Confirmer l'import").click()
    assert "Le catalogue a changé depuis l'aperçu" in page.locator("#apercu-change").inner_text()
    rows = page.locator("#changements tbody tr").all_inner_texts()
    assert len(rows) == 1 and "TP-00344" in rows[0]
    assert requests.get(f"{platform.urls['sessions']}/titres/TP-00344", headers=platform.dgefp,
                        timeout=15).json()[0]["libelle"] == "Vendeur-conseil en magasin"
    checker.check("import-change")
    page.get_by_role("button", name="Confirmer l'import").click()
    assert "0 version(s) publiée(s), 1 modifiée(s), 1 inchangée(s)" in flash(page)
    assert "Vendeur-conseil en magasin (rénové)" in page.locator("#titres").inner_text()
    checker.check("importe")


def test_the_address_correction_keeps_the_country_and_shows_the_step_that_failed_p7(web, platform):
    page, checker = web
    candidates = platform.urls["candidates"]

    def record(cid: int) -> dict:
        return requests.get(f"{candidates}/candidates/{cid}", headers=platform.admin, timeout=15).json()

    demo_login(page, checker, "Administrateur")
    page.goto("/agent/candidats/9/adresse")  # GRONDIN, validated
    assert page.get_by_label("Pays").input_value() == "FRANCE"
    page.get_by_label("Pays").fill("Belgique")
    page.get_by_label("Adresse (numéro et voie)").fill("12 rue Royale")
    page.get_by_label("Code postal (obligatoire)").fill("1000")
    page.get_by_label("Commune (adresse en France)").fill("")
    page.get_by_label("Localité (adresse à l'étranger)").fill("Bruxelles")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    assert "L'adresse du candidat est corrigée" in flash(page)
    assert (record(9)["address"]["country"], record(9)["status"]) == ("BELGIQUE", "valide")
    # Corrected again without touching the country: it stays.
    page.goto("/agent/candidats/9/adresse")
    assert page.get_by_label("Pays").input_value() == "BELGIQUE"
    page.get_by_label("Adresse (numéro et voie)").fill("14 rue Royale")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    assert "L'adresse du candidat est corrigée" in flash(page)
    assert record(9)["address"]["country"] == "BELGIQUE" and record(9)["address"]["lines"] == ["14 rue Royale"]

    # A refused change: its message next to its field, the record validated again as it was.
    page.goto("/agent/candidats/9/adresse")
    page.get_by_label("Pays").fill("FRANCE")
    page.get_by_label("Commune (adresse en France)").fill("ABCDE")
    page.get_by_role("button", name="Enregistrer l'adresse").click()  # C3: resolved by the gateway, none is ABCDE
    assert page.locator("#address-commune_code-erreur").inner_text().startswith(
        "Aucune commune ne correspond à « ABCDE »")
    checker.check("commune-refusee")
    page.get_by_label("Commune (adresse en France)").fill("Oyonnax")  # found, but not at the postcode typed
    page.locator("#address-code_postal").fill("01000")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    assert page.locator("#address-code_postal-erreur").inner_text().startswith(
        "Le code postal 01000 ne correspond pas à Oyonnax")
    assert record(9)["status"] == "valide" and record(9)["address"]["lines"] == ["14 rue Royale"]

    # A record merged into another: the page of the one kept (C1), not an error.
    merged = requests.post(f"{candidates}/candidates/6/merge", headers=platform.admin, timeout=15,
                           json={"merged_id": 7, "reason": "Doublon constaté"})
    assert merged.status_code == 200, merged.text
    page.goto("/agent/candidats/7/adresse")
    assert page.url.endswith("/agent/candidats/6/adresse")
    assert "Ce dossier a été fusionné dans le dossier n° 6" in page.locator(".fr-alert--info").first.inner_text()
    checker.check("dossier-fusionne")
