"""The web pages in Firefox (issue 8): Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core
(firefox/journeys.mjs; Playwright's Firefox is a patched build that cannot be installed here). One Node run goes
through the journeys on the same platform as test_web_journeys — public verification (B1) and the keyboard, the
demo log-in and each role's menu, the single search box (E6), a form refused by the server with its field error
and a forged CSRF token, a centre registered (E2) with its flash message, a transfer confirmed first (E5) — with
the Checker's rules on every page (no console error, no CSP violation, axe-core, a screenshot). The script reports
what each page showed; this test asserts on that report, in French."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_web_journeys import ARTIFACTS, BLOCKING_IMPACTS, platform  # noqa: E402,F401  (fixture: the platform)

FIREFOX = Path("/usr/bin/firefox-esr")
HERE = Path(__file__).parent / "firefox"
SCRIPT = HERE / "journeys.mjs"
INSTALL = "make install (scripts/system-deps.sh installs firefox-esr, then npm ci in services/gateway/tests/firefox)"
STEPS = ["verification", "verification-champ-manquant", "verification-non-authentique", "connexion-requise",
         "demo-sans-profil", "tableau-centre", "centre-acces-refuse", "tableau-agent", "recherche-centres",
         "recherche-sites", "recherche-hors-perimetre", "siret-invalide", "jeton-falsifie", "apercu-entreprise",
         "centre-enregistre", "transfert-confirmation", "transfert-fait"]
AGENTS_ONLY = {"Enregistrer un centre", "Sessions", "Impressions", "Agréments"}  # never a centre's
CENTRES_ONLY = {"Sessions du centre", "Mon centre"}


def tools() -> str:
    """Node, Firefox and puppeteer-core, or a failure that says how to install them (never a skip)."""
    node = shutil.which("node")
    missing = [what for what, present in (
        (f"Debian's firefox-esr ({FIREFOX})", FIREFOX.is_file()), ("node", node is not None),
        (f"puppeteer-core ({HERE / 'node_modules'})", (HERE / "node_modules" / "puppeteer-core").is_dir()))
        if not present]
    if missing:
        pytest.fail(f"missing for the Firefox tests: {', '.join(missing)}: {INSTALL}", pytrace=False)
    return node


def axe_path() -> str:
    from ceres_gateway.web.assets import AXE, assets_dir

    axe = assets_dir() / AXE.folder / "axe.min.js"
    if not axe.is_file():
        pytest.fail(f"axe-core missing ({axe}): python -m ceres_gateway.web.assets install", pytrace=False)
    return str(axe)


@pytest.fixture(scope="module")
def firefox():
    """Node starting Firefox while the platform starts (requested first, it saves those seconds); the journeys'
    data goes to its standard input once the platform runs."""
    node = tools()
    process = subprocess.Popen([node, str(SCRIPT), str(FIREFOX)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=HERE)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def run_journeys(process, platform) -> tuple[int, dict, str]:
    data = {
        "url": platform.url, "axe": axe_path(), "artifacts": str(ARTIFACTS),
        "blocking_impacts": sorted(BLOCKING_IMPACTS),
        "verification": {"number": "P-2024", "code": "faux-code"},
        "centre_profile": "Centre de formation (GRETA de l'Ain)", "agent_profile": "Agent UD de l'Ain (01)",
        "search": "Revermont", "search_sites_tab": "Sites (1)", "out_of_scope": "Voltaire",
        "register": {"bad_siret": "3001284510002", "siret": "300 128 451 00022", "type": "GRETA",
                     "representative": "Mme Lefèvre"},
        "transfer": {"search": "Haut-Bugey", "link": "Transférer le site Ateliers du Haut-Bugey — Oyonnax",
                     "siret": "30012845100014"},
    }
    try:
        stdout, stderr = process.communicate(json.dumps(data), timeout=240)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"the Firefox journeys did not end in 240 s: {stderr[-2000:]}", pytrace=False)
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        pytest.fail(f"no report from the Firefox journeys (exit {process.returncode}):\n{stdout}\n{stderr}",
                    pytrace=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "firefox-report.json").write_text(stdout, encoding="utf-8")
    return process.returncode, report, stderr


def test_journeys_in_firefox(firefox, platform):
    code, report, stderr = run_journeys(firefox, platform)
    assert report["failures"] == [], f"Firefox: {report['failures']}\n{stderr[-2000:]}"
    assert code == 0, stderr[-2000:]
    assert report["browser"].startswith("firefox/")
    steps = {step["name"]: step for step in report["steps"]}
    assert list(steps) == STEPS
    for name, step in steps.items():
        checks = step["checks"]
        assert checks["console"] == [] and checks["csp"] == [], name
        assert not [v for v in checks["axe"] if v["impact"] in BLOCKING_IMPACTS], name
        assert Path(checks["screenshot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert step["title"].endswith(" — CERES"), name
    seen = {name: step["seen"] for name, step in steps.items()}

    # B1 for anyone: the first Tab reaches the skip link, which puts the focus on the main content.
    assert seen["verification"]["menu"] == ["Vérifier un diplôme"]
    assert seen["verification"]["firstFocus"] == {"text": "Contenu", "href": "#contenu"}
    assert seen["verification"]["afterSkip"] == "contenu"
    assert seen["verification"]["nextInMain"] == {"inMain": True, "id": "numero"}
    assert seen["verification-champ-manquant"] == {
        "codeError": "Saisissez le code de vérification imprimé sous le QR code.", "number": "P-2024"}
    assert seen["verification-non-authentique"]["title"] == "Document non authentique"
    assert "ne correspondent à aucun document délivré" in seen["verification-non-authentique"]["result"]

    # Log-in required, then the demo log-in refused without a profile (the field's error from the server).
    assert steps["connexion-requise"]["url"].endswith("/connexion?suivant=/centres")
    assert "Veuillez vous connecter pour accéder à cette page." in seen["connexion-requise"]["message"]
    assert seen["demo-sans-profil"] == {"status": 422, "profileError": "Choisissez un profil de démonstration."}

    # Each role its menu; the agents' page refused to a centre by the server, not only missing from its menu.
    for menu, mine, not_mine in ((seen["tableau-centre"]["menu"], CENTRES_ONLY, AGENTS_ONLY),
                                 (seen["tableau-agent"]["menu"], AGENTS_ONLY, CENTRES_ONLY)):
        assert menu[0] == "Tableau de bord" and menu[-1] == "Vérifier un diplôme"
        assert mine <= set(menu) and not not_mine & set(menu), menu
    assert "SIRET 30012845100014" in seen["tableau-centre"]["lead"]
    assert "Gestionnaire de centre" in seen["tableau-centre"]["user"]
    assert steps["centre-acces-refuse"]["h1"] == "Accès refusé" and seen["centre-acces-refuse"]["status"] == 403
    assert "département 01" in seen["tableau-agent"]["lead"]
    assert seen["tableau-agent"]["counts"] == ["0", "0"]  # P9: nothing validated in this platform

    # E6: one box, counts of centres and of sites, each a tab; nothing from outside the agent's département.
    assert seen["recherche-centres"]["counts"] == ["Centres (1)", "Sites (1)"]
    assert "« Revermont »" in steps["recherche-centres"]["title"]
    [centre] = seen["recherche-centres"]["rows"]
    assert "30012845100014" in centre
    [site] = seen["recherche-sites"]["rows"]
    assert "Revermont — Bourg-en-Bresse" in site
    assert "Aucun centre ni site de votre périmètre ne correspond à « Voltaire »" in seen[
        "recherche-hors-perimetre"]["none"]
    assert seen["recherche-hors-perimetre"]["rows"] == 0

    # E2: the service's 422 next to the field and in the summary; a forged CSRF token refused; then registered.
    invalid = seen["siret-invalide"]
    assert invalid["status"] == 422 and invalid["csrfTokenLength"] >= 32
    assert invalid["fieldError"] == invalid["summaryLink"] == "Le SIRET doit comporter 14 chiffres."
    assert invalid["ariaInvalid"] == "true" and "siret-erreur" in invalid["describedBy"]
    assert seen["jeton-falsifie"]["status"] == 400 and steps["jeton-falsifie"]["h1"] == "Formulaire expiré"
    assert "ne vient pas de CERES" in seen["jeton-falsifie"]["main"]
    assert "30012845100022" in seen["apercu-entreprise"]["card"]
    assert "est enregistré (SIRET 30012845100022)" in seen["centre-enregistre"]["flash"]
    assert "Mme Lefèvre" in seen["centre-enregistre"]["centre"]

    # E5: a confirmation page first (nothing moved yet), then the flash of the transfer.
    confirmation = seen["transfert-confirmation"]
    assert "Confirmez le transfert" in confirmation["confirmation"] and "30012845100014" in confirmation["confirmation"]
    assert confirmation["buttons"] == ["Confirmer le transfert"]
    assert "est transféré au centre" in seen["transfert-fait"]["flash"]
    done = seen["transfert-fait"]
    assert "30012845100014" in done["centre"]
    # The same search while the confirmation was shown and after it: the site moved only once confirmed.
    assert len(confirmation["pending"]) == len(done["after"]) == 1
    assert "Centre de reprise" in confirmation["pending"][0]
    assert "CENTRE DE FORMATION DU REVERMONT" in done["after"][0]
    assert "Vous êtes déconnecté(e)." in report["loggedOut"]

    # The checks can fail: an inline script added on purpose was blocked and its violation seen; an error thrown
    # by the page's code was seen.
    assert report["control"]["ran"] is False
    assert any("script-src" in violation for violation in report["control"]["violations"])
    assert any("erreur de contrôle" in problem for problem in report["control"]["problems"])
