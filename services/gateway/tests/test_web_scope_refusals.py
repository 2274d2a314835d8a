"""The national administration's page of refused attempts outside their author's scope (I4, issue 12), in Debian's
Chromium against the whole platform: empty first, then the refusals of an UD reading sites of another territory,
one service at a time, paged, filtered by day; refused to an UD. Each page: no console error, no axe-core
violation, a screenshot."""
from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_web_admin_journeys import platform  # noqa: E402,F401  (the whole platform, demo seeded)
from test_web_agent import UD01, web  # noqa: E402,F401
from test_web_centre import log_out  # noqa: E402
from test_web_journeys import demo_login, menu_labels  # noqa: E402
from webplatform import browser, paris_today  # noqa: E402,F401

from ceres_establishments.service_layer.sites import site_id_for

LYON_SIRET = "41822976100014"  # the demo's centre in the Rhône (69)


@pytest.fixture(scope="module")
def refused(platform, issuer):
    """21 refused reads of a Rhône site by an agent of Paris (UD 75), straight to the establishments service."""
    headers = {"Authorization": "Bearer " + issuer.issue("ud75-curieux", "ud", scope={"departements": ["75"]},
                                                         name="Paul Curieux")}
    site = site_id_for(LYON_SIRET, 1)
    for _ in range(21):
        answer = requests.get(f"{platform.urls['establishments']}/sites/{site}", headers=headers, timeout=10)
        assert answer.status_code == 403
    return site


def test_admin_lists_the_refusals_per_service_paged_and_filtered_an_ud_may_not(web, refused):
    page, checker = web
    demo_login(page, checker, "Administrateur")
    assert "Refus de périmètre" in menu_labels(page)
    page.get_by_role("link", name="Refus de périmètre", exact=True).first.click()
    assert page.locator("h1").inner_text() == "Refus de périmètre"
    assert page.locator("#aucun-refus").is_visible()  # sessions: none yet
    checker.check("vide")
    page.locator("#services").get_by_role("link", name="Centres et sites").click()
    rows = page.locator("#refus tbody tr")
    assert rows.count() == 20
    assert "21 refus, page 1 sur 2" in page.locator("#refus caption").inner_text()
    first = rows.first.inner_text()
    assert "Paul Curieux" in first and "ud:ud75-curieux" in first and f"site {refused}" in first
    assert "refusé (403)" in first and f"GET /sites/{refused}" in first
    checker.check("centres-et-sites")
    page.get_by_role("link", name="Page suivante").click()
    assert page.locator("#refus tbody tr").count() == 1
    checker.check("page-2")
    yesterday = paris_today() - timedelta(days=1)
    page.get_by_label("Au", exact=True).fill(yesterday.isoformat())
    page.get_by_role("button", name="Filtrer").click()
    assert "pour ces filtres" in page.locator("#aucun-refus").inner_text()
    checker.check("filtre-vide")
    page.get_by_label("Au", exact=True).fill("")
    page.get_by_label("Auteur").fill("ud:ud75-curieux")
    page.get_by_role("button", name="Filtrer").click()
    assert "21 refus" in page.locator("#refus caption").inner_text()
    page.goto("/agent/refus-de-perimetre?service=inconnu")
    assert page.locator("#erreur-formulaire").is_visible()
    checker.check("service-inconnu")
    log_out(page)
    demo_login(page, checker, UD01)
    assert "Refus de périmètre" not in menu_labels(page)
    page.goto("/agent/refus-de-perimetre")
    assert page.locator("h1").inner_text() == "Accès refusé"
    checker.check("refuse-ud")
