"""The centre's candidate search, page after page, in Debian's Chromium against the whole platform: the gateway asks
the candidates service for one page (offset) and shows its total; the pages follow each other without repeat. Each
page: no console error, axe-core, a screenshot."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_web_centre_fixes import new_centre_session, platform  # noqa: E402,F401  (fixture: the whole platform)
from test_web_journeys import browser, web  # noqa: E402,F401  (fixtures: Chromium, a fresh context per test)

PRENOMS = ("Adèle", "Basile", "Céleste", "Denis", "Elsa")


@pytest.fixture(scope="module")
def namesakes(platform, issuer):
    """Five people of the GRETA de l'Ain named « Paginé », created as its gestionnaire would."""
    token = issuer.issue("greta-01-test", "gestionnaire", scope={"sirets": ["30012845100014"]})
    for day, prenom in enumerate(PRENOMS, start=1):
        made = requests.post(f"{platform.urls['candidates']}/candidates", timeout=30,
                             headers={"Authorization": f"Bearer {token}"}, json={
                                 "genre": "F", "nom_naissance": "Paginé", "prenoms": [prenom],
                                 "birth_date": f"1990-02-{day:02d}", "birth_commune_code": "01053",
                                 "address": {"lines": ["12 rue des Lilas"], "code_postal": "01000",
                                             "commune_code": "01053"}})
        assert made.status_code == 201, made.text


def test_centre_searches_its_candidates_page_by_page(web, platform, namesakes, monkeypatch):
    from ceres_gateway.web import centre_sessions

    monkeypatch.setattr(centre_sessions, "FOUND_PER_PAGE", 2)  # five matches: three pages
    page, checker = web
    new_centre_session(page, checker, days=140)
    page.get_by_role("link", name="Inscrire des candidats").click()
    page.get_by_label("Nom et prénom").fill("pagine")
    page.locator("#recherche-candidat button").click()
    results = page.locator("#resultats")
    assert "Candidats trouvés pour « pagine » (5) — page 1 sur 3" in results.locator("caption").inner_text()
    seen = [results.locator("tbody tr").all_inner_texts()]
    checker.check("recherche-page-1")
    for number in (2, 3):
        page.get_by_role("link", name="Page suivante").click()
        assert f"page {number} sur 3" in page.locator("#resultats caption").inner_text()
        seen.append(page.locator("#resultats tbody tr").all_inner_texts())
    assert [len(rows) for rows in seen] == [2, 2, 1]
    names = [next(p for p in PRENOMS if p in row) for rows in seen for row in rows]
    assert sorted(names) == sorted(PRENOMS)  # each person once, none missing
    assert page.locator("#recherche-plafonnee").count() == 0
    checker.check("recherche-page-3")
