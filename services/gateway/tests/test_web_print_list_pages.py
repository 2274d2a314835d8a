"""P9 in Debian's Chromium against the whole platform: the list behind a print count comes page by page from the
printing service (its total in the caption, each session once); a page past the end shows the last one. Each page:
no console error, axe-core, a screenshot."""
from __future__ import annotations

import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_web_agent import UD01, platform, web  # noqa: E402,F401  (fixtures: the seeded platform, a page per test)
from webplatform import browser, demo_login, wait_for  # noqa: E402,F401


def test_p9_list_comes_page_by_page_from_printing(web, platform, monkeypatch):
    from ceres_gateway.web import agent_printing

    seeder = platform.seeder
    ids = {platform.sessions[key]["id"]: platform.sessions[key]["public_id"] for key in ("a_valider", "a_imprimer")}
    printing = platform.urls["printing"]
    for session_id in ids:
        seeder.call("POST", f"/sessions/{session_id}/validation", seeder.ud)
    for session_id in ids:
        wait_for(lambda: requests.get(f"{printing}/sessions/{session_id}/candidates", headers=seeder.ud,
                                      timeout=10).ok, what="printing's documents of the validated session")
    monkeypatch.setattr(agent_printing, "SESSIONS_PER_PAGE", 1)  # two sessions without request: two pages
    page, checker = web
    demo_login(page, checker, UD01)
    page.goto("/agent/impressions?suivi=sans_demande")
    listing = page.locator("#liste-impressions")
    assert "(2) — page 1 sur 2" in listing.locator("caption").inner_text()
    first = listing.locator("tbody tr").all_inner_texts()
    checker.check("p9-page-1")
    page.get_by_role("link", name="Page suivante").click()
    assert "page 2 sur 2" in page.locator("#liste-impressions caption").inner_text()
    second = page.locator("#liste-impressions tbody tr").all_inner_texts()
    assert len(first) == len(second) == 1
    shown = {public_id for public_id in ids.values() for row in first + second if public_id in row}
    assert shown == set(ids.values())  # each session once, on its own page
    page.goto("/agent/impressions?suivi=sans_demande&page=9")  # past the end: the last page
    assert "page 2 sur 2" in page.locator("#liste-impressions caption").inner_text()
    assert page.locator("#liste-impressions tbody tr").all_inner_texts() == second
    checker.check("p9-page-2")
