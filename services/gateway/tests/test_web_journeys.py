"""The platform the browser tests drive: identity (embedded flavour, so its demo log-in exists), establishments
and printing on their own PostgreSQL databases and this run's RabbitMQ, each app on a real server on loopback,
the gateway in front; and Debian's Chromium driven by Playwright, with axe-core run inside each page."""
from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "web"
BLOCKING_IMPACTS = {"minor", "moderate", "serious", "critical"}  # every axe-core violation fails


def serve_all(apps: dict) -> tuple[dict[str, str], callable]:
    """Each WSGI app on its own threaded server on a free loopback port: their URLs, and one function to stop all."""
    servers = {name: make_server("127.0.0.1", 0, app, threaded=True) for name, app in apps.items()}
    for server in servers.values():
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop():
        for server in servers.values():
            server.shutdown()

    return {name: f"http://127.0.0.1:{server.server_port}" for name, server in servers.items()}, stop


class Platform:
    def __init__(self, url: str, runtimes: dict):
        self.url = url
        self.runtimes = runtimes


def start_platform(infra, amqp_url, issuer):
    """Returns (platform, closer)."""
    from ceres_establishments.adapters.company_register import DEMO_FILE, ApiCompanyRegister
    from ceres_establishments.adapters.fake_recherche_entreprises import FakeRechercheEntreprises

    from ceres_gateway.app import create_app as create_gateway
    from ceres_shared.config import BusSettings, Settings
    from ceres_shared.testing.plugin import build_runtime

    env = {"IDENTITY_KEYS_DIR": str(issuer.directory),  # identity signs with the ring the runtimes trust
           "IDENTITY_ARGON2_TIME_COST": "1", "IDENTITY_ARGON2_MEMORY_KIB": "1024"}  # seeding's hashing, fast
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    exchange = f"web{uuid.uuid4().hex[:8]}.events"

    from ceres_identity import demo as identity_demo
    from ceres_identity.app import create_app as identity_app
    from ceres_identity.bootstrap import bootstrap as identity_bootstrap

    identity = identity_bootstrap(Settings(
        service="identity", database_url=infra.new_database(f"idweb{uuid.uuid4().hex[:4]}"),
        bus=BusSettings(url=amqp_url, exchange=exchange), jwks_url=None, embedded=True))
    identity.upgrade_database()
    identity_demo.seed(identity)

    establishments = build_runtime(infra, amqp_url, issuer, "establishments", exchange=exchange)
    register = FakeRechercheEntreprises(json.loads(Path(DEMO_FILE).read_text(encoding="utf-8"))["results"])
    register.__enter__()
    establishments.company_register = ApiCompanyRegister(register.url)  # E2 through the register's real protocol
    from ceres_establishments import demo as establishments_demo

    establishments_demo.seed(establishments)
    printing = build_runtime(infra, amqp_url, issuer, "printing", exchange=exchange)

    from ceres_establishments.app import create_app as establishments_app
    from ceres_printing.app import create_app as printing_app

    urls, stop_services = serve_all({"identity": identity_app(identity),
                                     "establishments": establishments_app(establishments),
                                     "printing": printing_app(printing)})
    urls.update({"sessions": "http://127.0.0.1:9", "candidates": "http://127.0.0.1:9"})  # not driven yet
    gateway, stop_gateway = serve_all({"gateway": create_gateway(urls, timeout=10)})
    runtimes = {"identity": identity, "establishments": establishments, "printing": printing}

    return Platform(gateway["gateway"], runtimes), closer(stop_gateway, stop_services, register, runtimes, saved)


def launch_browser(playwright):
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"Debian's Chromium is missing ({CHROMIUM}): apt-get install chromium (scripts/system-deps.sh)",
                    pytrace=False)
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


class Checker:
    """Each page a journey shows: no console error (a CSP violation is one), no axe-core violation of any
    impact, and a screenshot kept in test-artifacts/web/."""

    def __init__(self, page, name: str):
        from ceres_gateway.web.assets import AXE, assets_dir

        self.page = page
        self.name = name
        self.count = 0
        self.console: list[str] = []
        axe = assets_dir() / AXE.folder / "axe.min.js"
        if not axe.is_file():
            pytest.fail(f"axe-core missing ({axe}): python -m ceres_gateway.web.assets install", pytrace=False)
        self.axe_source = axe.read_text(encoding="utf-8")
        # A page answered 4xx is expected (a refused form); a failing script, style or font is not, nor a CSP
        # violation. Messages from the scripts the test evaluates (axe-core) have no URL: they are not the page's.
        page.on("console", lambda m: self.console.append(f"{m.text} ({page.url} {m.location})") if m.type == "error" and (
            m.location.get("url")) and not m.text.startswith(
            "Failed to load resource: the server responded with a status of 4") else None)
        page.on("response", lambda r: self.console.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document" else None)
        page.on("pageerror", lambda e: self.console.append(str(e)))

    def check(self, label: str) -> None:
        self.count += 1
        self.page.wait_for_load_state("load")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert not self.console, f"{label}: console errors {self.console}"
        # caret="initial": hiding the caret would make Playwright add a <style> the page's CSP (rightly) blocks.
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.count:02d}-{label}.png"), full_page=True,
                             caret="initial")
        if self.page.evaluate("typeof window.axe") == "undefined":
            self.page.evaluate(self.axe_source)  # the DevTools protocol runs it despite the page's strict CSP
        violations = self.page.evaluate("""async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }""")
        blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
        assert not blocking, f"{label}: accessibility violations {blocking}"


# --- fixtures ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def platform(infra, amqp_url, issuer):
    started, close = start_platform(infra, amqp_url, issuer)
    yield started
    close()


def closer(stop_gateway, stop_services, register, runtimes: dict, saved_env: dict):
    """Stops what a test platform started, in reverse order, and puts the environment back."""

    def close():
        stop_gateway()
        stop_services()
        register.__exit__(None, None, None)
        for runtime in runtimes.values():
            runtime.stop_background()
            runtime.engine.dispose()
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    return close

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def web(browser, platform, request):
    """A fresh browser context (no cookie) and its page checker, named after the test."""
    context = browser.new_context(base_url=platform.url, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(5_000)
    checker = Checker(page, request.node.name.removeprefix("test_"))
    yield page, checker
    context.close()


def demo_login(page, checker, label: str) -> None:
    page.goto("/connexion/demonstration")
    page.locator("label.fr-label", has_text=label).first.click()  # the DSFR radio: its label takes the click
    assert page.get_by_label(label).is_checked()
    page.get_by_role("button", name="Se connecter avec ce profil").click()
    page.wait_for_url("**/tableau-de-bord")


def menu_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("#navigation .fr-nav__link").all_inner_texts()]


# --- journeys ---------------------------------------------------------------------------------------------------
def test_public_diploma_verification_b1(web):
    page, checker = web
    page.goto("/verification")
    expect_heading(page, "Vérifier un diplôme du titre professionnel")
    assert menu_labels(page) == ["Vérifier un diplôme"]  # anonymous: only the public page
    checker.check("formulaire")
    page.goto("/verification?numero=P-2024&code=")
    assert page.locator("#code-erreur").inner_text() == "Saisissez le code de vérification imprimé sous le QR code."
    assert page.get_by_label("Numéro du document").input_value() == "P-2024"
    checker.check("champ-manquant")
    page.get_by_label("Code de vérification").fill("faux-code")
    page.get_by_role("button", name="Vérifier").click()
    # B1: an unknown number and a forged code get the same answer from printing.
    assert page.locator("#resultat .fr-alert__title").inner_text() == "Document non authentique"
    assert "ne correspondent à aucun document délivré" in page.locator("#resultat").inner_text()
    checker.check("non-authentique")


def test_demo_login_shows_each_role_its_menu_and_dashboard(web):
    page, checker = web
    page.goto("/centres")
    page.wait_for_url("**/connexion?suivant=/centres")
    assert "Veuillez vous connecter" in page.locator("main").inner_text()
    checker.check("connexion")
    page.get_by_role("link", name="Connexion de démonstration").click()
    page.get_by_role("button", name="Se connecter avec ce profil").click()
    assert page.locator("#profil-erreur").inner_text() == "Choisissez un profil de démonstration."
    checker.check("demo-sans-profil")
    expected = {
        "Agent UD de l'Ain (01)": (["Tableau de bord", "Centres et sites", "Enregistrer un centre", "Sessions",
                                    "Contrôles", "Impressions", "Plis non distribués", "Réimpressions", "Agréments",
                                    "Vérifier un diplôme"],
                                   "département 01"),
        "Agent DREETS Auvergne-Rhône-Alpes (84)": (None, "région 84"),
        "DGEFP": (None, "périmètre national"),
        "Administrateur": (None, "périmètre national"),
        "Centre de formation (GRETA de l'Ain)": (["Tableau de bord", "Centres et sites", "Sessions du centre",
                                                  "Mon centre", "Vérifier un diplôme"], "SIRET 30012845100014"),
    }
    for label, (menu, scope) in expected.items():
        demo_login(page, checker, label)
        assert page.locator("h1").inner_text() == "Tableau de bord"
        assert scope in page.locator(".fr-text--lead").inner_text()
        if menu:
            assert menu_labels(page) == menu
        if label.startswith("Centre"):
            # No printing figures for a centre; an explicit empty state, not zeros.
            assert page.locator("#aucun-indicateur").is_visible()
            page.goto("/centres/nouveau")  # E2 is the agents': refused by the page, not only hidden from the menu
            assert page.locator("h1").inner_text() == "Accès refusé"
            page.goto("/tableau-de-bord")
        else:
            # P9 counts from printing for the agent's scope (nothing validated yet in this platform).
            assert page.locator("#indicateurs .ceres-count").all_inner_texts() == ["0", "0"]
        checker.check(f"tableau-{label.split()[0].lower()}")
        page.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_url("**/connexion")
        assert "Vous êtes déconnecté(e)." in page.locator("main").inner_text()
    page.goto("/tableau-de-bord")
    page.wait_for_url("**/connexion?suivant=/tableau-de-bord")


def test_log_in_with_an_identity_account(web):
    page, checker = web
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill("ud01@ceres.demo")
    page.get_by_role("button", name="Se connecter", exact=True).click()
    assert page.locator("#password-erreur").inner_text() == "Saisissez votre mot de passe."
    assert page.get_by_label("Adresse électronique").input_value() == "ud01@ceres.demo"
    checker.check("mot-de-passe-manquant")
    page.get_by_label("Mot de passe").fill("pas-le-bon-mot-de-passe")
    page.get_by_role("button", name="Se connecter", exact=True).click()
    assert page.locator("#erreur-formulaire").is_visible()
    assert page.url.endswith("/connexion")
    checker.check("mauvais-mot-de-passe")
    from ceres_identity.demo import DEMO_PASSWORD

    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    page.wait_for_url("**/tableau-de-bord")
    assert "département 01" in page.locator(".fr-text--lead").inner_text()
    assert "Enregistrer un centre" in menu_labels(page)
    checker.check("connecte")


def test_agent_search_with_the_single_box_and_its_counts_e6(web):
    page, checker = web
    demo_login(page, checker, "Agent DREETS Auvergne-Rhône-Alpes (84)")
    page.get_by_role("link", name="Centres et sites").first.click()
    assert page.locator("#etat-vide").is_visible()
    checker.check("etat-vide")
    page.get_by_label("Rechercher").fill("lyonnais")
    page.locator("#barre-recherche button").click()
    # E6: counts of centres and of sites, each a tab; région 84 covers Lyon and Villeurbanne.
    assert page.locator("#compteurs").inner_text().split("\n") == ["Centres (1)", "Sites (2)"]
    assert page.locator("#resultats tbody tr").count() == 1
    checker.check("centres")
    page.get_by_role("link", name="Sites (2)").click()
    rows = page.locator("#resultats tbody tr").all_inner_texts()
    assert len(rows) == 2 and any("Villeurbanne" in r for r in rows)
    checker.check("sites")
    page.get_by_label("Rechercher").fill("Voltaire")  # a Paris site: outside région 84
    page.locator("#barre-recherche button").click()
    assert "Aucun centre ni site de votre périmètre ne correspond à « Voltaire »" in page.locator(
        "#aucun-resultat").inner_text()
    checker.check("hors-perimetre")


def test_agent_registers_a_centre_by_siret_e2(web):
    page, checker = web
    demo_login(page, checker, "Agent UD de l'Ain (01)")
    page.get_by_role("link", name="Enregistrer un centre").first.click()
    checker.check("siret")
    page.get_by_label("SIRET").fill("3001284510002")
    page.get_by_role("button", name="Rechercher l'établissement").click()
    # The service's 422 message, next to the field it concerns and in the summary linking to it.
    assert page.locator("#siret-erreur").inner_text() == "Le SIRET doit comporter 14 chiffres."
    assert page.locator("#erreur-formulaire a[href='#siret']").inner_text() == "Le SIRET doit comporter 14 chiffres."
    assert page.get_by_label("SIRET").get_attribute("aria-invalid") == "true"
    checker.check("siret-invalide")
    page.get_by_label("SIRET").fill("300 128 451 00022")
    page.get_by_role("button", name="Rechercher l'établissement").click()
    card = page.locator("#entreprise")
    assert "30012845100022" in card.inner_text()  # from the company register, read-only
    checker.check("apercu")
    page.get_by_label("Type de centre").select_option("GRETA")
    page.get_by_label("Représentant").fill("Mme Lefèvre")
    page.get_by_role("button", name="Enregistrer le centre").click()
    assert "est enregistré (SIRET 30012845100022)" in page.locator(".fr-alert--success").inner_text()
    assert "30012845100022" in page.locator("#centre").inner_text()
    assert "Mme Lefèvre" in page.locator("#centre").inner_text()
    checker.check("centre-enregistre")
    # E2 again: the same SIRET cannot be registered twice; the service's message is shown on the form.
    page.get_by_role("link", name="Enregistrer un centre").first.click()
    page.get_by_label("SIRET").fill("30012845100022")
    page.get_by_role("button", name="Rechercher l'établissement").click()
    assert "Ce SIRET est déjà enregistré dans CERES" in page.locator("#erreur-formulaire").inner_text()
    assert page.locator("#entreprise").count() == 0
    checker.check("deja-enregistre")


def test_agent_transfers_a_site_after_confirming_e5(web):
    page, checker = web
    demo_login(page, checker, "Agent UD de l'Ain (01)")
    page.goto("/centres?q=Haut-Bugey&type=SITE")
    assert page.locator("#compteurs").inner_text().split("\n")[1] == "Sites (1)"
    page.locator("#resultats tbody tr a").first.click()
    checker.check("centre-de-reprise")
    page.get_by_role("link", name="Transférer le site Ateliers du Haut-Bugey — Oyonnax").click()
    page.get_by_label("SIRET du centre qui reçoit le site").fill("12345678901234")
    page.get_by_role("button", name="Continuer").click()
    assert page.locator("#erreur-formulaire").is_visible()
    assert page.locator("#confirmation").count() == 0
    checker.check("siret-inconnu")
    page.get_by_label("SIRET du centre qui reçoit le site").fill("30012845100014")
    page.get_by_role("button", name="Continuer").click()
    confirmation = page.locator("#confirmation")
    assert "Confirmez le transfert" in confirmation.inner_text()
    assert "30012845100014" in confirmation.inner_text()
    checker.check("confirmation")
    # Nothing moved before the confirmation (seen from another tab of the same session).
    other = page.context.new_page()
    other.goto("/centres?q=Haut-Bugey&type=SITE")
    assert "Centre de reprise" in other.locator("#resultats tbody").inner_text()
    other.close()
    page.get_by_role("button", name="Confirmer le transfert").click()
    assert "est transféré au centre" in page.locator(".fr-alert--success").inner_text()
    assert "30012845100014" in page.locator("#centre").inner_text()
    assert "Haut-Bugey" in page.locator("#sites").inner_text()
    page.goto("/centres?q=Haut-Bugey&type=SITE")
    assert "CENTRE DE FORMATION DU REVERMONT" in page.locator("#resultats tbody").inner_text()
    checker.check("transfere")


def expect_heading(page, text: str) -> None:
    assert page.locator("h1").inner_text() == text
