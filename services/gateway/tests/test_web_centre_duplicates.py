"""M1 and H2 on the centre's page, in Debian's Chromium against the whole platform: a probable duplicate the centre
may not see is shown masked (initials, birth year), with the advice to check or call the UD and no enrol button;
its exact identity gives the number, and the centre enrols it (the grant goes to sessions by event). Each page: no
console error, axe-core, a screenshot."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_web_centre import fill_person  # noqa: E402
from test_web_centre_fixes import flash, new_centre_session, platform  # noqa: E402,F401  (fixture: the platform)
from test_web_journeys import browser, web  # noqa: E402,F401  (fixtures: Chromium, a fresh context per test)

ADVICE = ("Un dossier proche existe déjà dans CERES ; vérifiez l'orthographe et la date de naissance, ou contactez "
          "votre unité départementale.")


@pytest.fixture(scope="module")
def stranger(platform, issuer) -> int:
    """A person the UD of the Rhône registered (living in Lyon): the GRETA of the Ain may not see the record."""
    token = issuer.issue("ud69-test", "ud", scope={"departements": ["69"]})
    made = requests.post(f"{platform.urls['candidates']}/candidates", timeout=30,
                         headers={"Authorization": f"Bearer {token}"}, json={
                             "genre": "F", "nom_naissance": "Vercingétorix", "prenoms": ["Irène", "Maud"],
                             "birth_date": "1985-04-12", "birth_commune_code": "69123",
                             "address": {"lines": ["3 rue Mercière"], "code_postal": "69002",
                                         "commune_code": "69123"}})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def test_m1_a_strangers_record_is_masked_and_its_exact_identity_enrols_it(web, platform, stranger):
    page, checker = web
    session_url = new_centre_session(page, checker, days=145)
    page.get_by_role("link", name="Inscrire des candidats").click()
    fill_person(page, "F", "Vercingetorix", "Irène, Maud", "1985-04-13", "69123")  # one digit off
    page.get_by_role("button", name="Créer et inscrire").click()
    assert "Cette personne semble déjà enregistrée dans CERES" in page.locator("#erreur-formulaire").inner_text()
    row = page.locator("#dossiers-existants tbody tr")
    assert row.count() == 1
    assert row.first.inner_text().split("\t")[:4] == ["—", "V.", "I.", "en 1985"]
    assert row.first.get_by_role("button").count() == 0  # no number: nothing to enrol
    assert page.locator("#doublon-masque").inner_text() == ADVICE
    shown = page.locator("#dossiers-existants").inner_text()
    assert "VERCING" not in shown.upper() and "Maud" not in shown and "12/04/1985" not in shown
    assert str(stranger) not in shown
    checker.check("doublon-masque")

    # The exact identity: the centre typed everything, it learns the number and may enrol the person (H2).
    fill_person(page, "F", "VERCINGETORIX", "Irène, Maud", "1985-04-12", "69123")
    page.get_by_role("button", name="Créer et inscrire").click()
    exact = page.locator("#dossiers-existants tbody tr")
    assert exact.count() == 1 and exact.first.inner_text().startswith(str(stranger))
    assert page.locator("#doublon-masque").count() == 0
    checker.check("doublon-exact")
    exact.first.get_by_role("button").click()
    assert f"Le candidat n° {stranger} est inscrit à la session" in flash(page)
    assert page.url == session_url
