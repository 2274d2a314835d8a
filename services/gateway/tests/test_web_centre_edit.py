"""An agent corrects a registered centre (E2, E3) and its sites (E4) from the centre's page, in Debian's Chromium
against identity, establishments and printing behind the gateway: the service's French errors next to the field,
the change read back over the API (through the gateway) with its trace, a site added, edited, then closed after a
confirmation. Each page: no console error, no axe-core violation, a screenshot."""
from __future__ import annotations

import sys
import uuid
from datetime import date
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_web_centre_fixes import platform  # noqa: E402,F401  (the whole platform: the communes are candidates')
from test_web_journeys import browser, demo_login, web  # noqa: E402,F401  (Chromium)

GRETA = "30012845100014"  # the demo's centre in Ain (01)
UD01 = "Agent UD de l'Ain (01)"


def api(platform, issuer, path: str, method: str = "GET", body: dict | None = None):
    """The establishments service over HTTP through the gateway, with a token of the UD of Ain."""
    token = issuer.issue(f"ud-{uuid.uuid4().hex[:6]}", "ud", scope={"departements": ["01"]}, ttl=600)
    answer = requests.request(method, f"{platform.url}/api/establishments{path}", json=body, timeout=10,
                              headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, (path, answer.status_code, answer.text)
    return answer.json()


def open_centre(page, siret: str) -> None:
    page.goto(f"/centres?q={siret}")
    page.locator("#resultats tbody tr a").first.click()
    page.wait_for_url("**/centres/*")


def test_agent_edits_the_centre_adds_edits_and_closes_a_site_e3_e4(web, platform, issuer):
    page, checker = web
    demo_login(page, checker, UD01)
    open_centre(page, GRETA)
    centre_id = page.url.rstrip("/").split("/")[-1].split("?")[0]
    checker.check("centre")

    # E2, E3: the registered centre's data, editable afterwards; a wrong commune code comes back next to its field.
    page.get_by_role("link", name="Modifier le centre").click()
    assert page.locator("h1").inner_text().startswith("Modifier le centre")
    assert page.get_by_label("Commune").input_value() == "Bourg-en-Bresse (01000)"  # C3: as people know it
    checker.check("modifier-centre")
    page.get_by_label("Réseau").fill("GRETA Ain")
    page.get_by_label("Représentant").fill("M. Girard")
    page.get_by_label("Commune").fill("99999")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    assert page.locator("#commune_code-erreur").inner_text().startswith("Aucune commune ne correspond à « 99999 »")
    assert page.get_by_label("Commune").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Représentant").input_value() == "M. Girard"  # what was typed is kept
    checker.check("commune-inconnue")
    assert api(platform, issuer, f"/centres/{centre_id}")["representant"] != "M. Girard"  # nothing saved
    page.get_by_label("Commune").fill("Bourg-en-Bresse")
    page.get_by_label("Commentaires").fill("Adresse vérifiée auprès du centre.")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    assert "est modifié" in page.locator(".fr-alert--success").inner_text()
    facts = page.locator("#centre").inner_text()
    assert "M. Girard" in facts and "GRETA Ain" in facts and "Adresse vérifiée auprès du centre." in facts
    checker.check("centre-modifie")
    saved = api(platform, issuer, f"/centres/{centre_id}")
    assert (saved["representant"], saved["reseau"], saved["commune_code"]) == ("M. Girard", "GRETA Ain", "01053")
    assert "update" in [entry["action"] for entry in api(platform, issuer, f"/history/centre/{centre_id}")]
    # Someone else saves the centre while the form is open: the form says so and overwrites nothing.
    page.get_by_role("link", name="Modifier le centre").click()
    api(platform, issuer, f"/centres/{centre_id}", "PATCH", {"representant": "Mme Blanc"})
    page.get_by_label("Représentant").fill("M. Lenoir")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    assert "vient d'être modifié par quelqu'un d'autre" in page.locator("#erreur-formulaire").inner_text()
    checker.check("modifie-entre-temps")
    assert api(platform, issuer, f"/centres/{centre_id}")["representant"] == "Mme Blanc"
    page.goto(f"/centres/{centre_id}")

    # E4: a site outside the agent's territory is refused next to the commune; inside it, added.
    page.get_by_role("link", name="Ajouter un site").click()
    checker.check("ajouter-site")
    page.get_by_label("Nom du site").fill("Revermont — Ambérieu")
    page.get_by_label("Adresse").fill("3 place Sémard")
    page.get_by_label("Commune").fill("69383")  # Lyon 3e by its INSEE code: Rhône, not Ain
    page.get_by_role("button", name="Ajouter le site").click()
    assert "hors de votre périmètre" in page.locator("#commune_code-erreur").inner_text()
    checker.check("site-hors-territoire")
    page.get_by_label("Commune").fill("Ambérieu-en-Bugey")
    page.get_by_label("SIRET du site").fill("123")
    page.get_by_role("button", name="Ajouter le site").click()
    assert page.locator("#siret-erreur").inner_text() == "Le SIRET doit comporter 14 chiffres."
    page.get_by_label("SIRET du site").fill("")
    page.get_by_role("button", name="Ajouter le site").click()
    assert "Revermont — Ambérieu" in page.locator(".fr-alert--success").inner_text()
    assert "Revermont — Ambérieu" in page.locator("#sites").inner_text()
    checker.check("site-ajoute")
    sites = {s["name"]: s for s in api(platform, issuer, f"/centres/{centre_id}/sites")}
    site = sites["Revermont — Ambérieu"]
    assert (site["commune_code"], site["departement"], site["closed_at"]) == ("01004", "01", None)

    page.get_by_role("link", name="Modifier le site Revermont — Ambérieu").click()
    assert page.get_by_label("Nom du site").input_value() == "Revermont — Ambérieu"
    page.get_by_label("Représentant").fill("Mme Roux")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    assert "est modifié" in page.locator(".fr-alert--success").inner_text()
    assert api(platform, issuer, f"/sites/{site['id']}")["representant"] == "Mme Roux"

    # E4: closing is irreversible — a confirmation page first; « Annuler » changes nothing.
    page.get_by_role("link", name="Fermer le site Revermont — Ambérieu").click()
    assert "définitive" in page.locator("#confirmation").inner_text()
    checker.check("fermer-site")
    page.get_by_role("link", name="Annuler").click()
    assert api(platform, issuer, f"/sites/{site['id']}")["closed_at"] is None
    page.get_by_role("link", name="Fermer le site Revermont — Ambérieu").click()
    closing = date.today().isoformat()  # typed, not the service's default: no flake around midnight
    page.get_by_label("Date de fermeture").fill(closing)
    page.get_by_label("Motif de la fermeture").fill("Locaux rendus au propriétaire.")
    page.get_by_role("button", name="Confirmer la fermeture").click()
    assert "est fermé depuis le" in page.locator(".fr-alert--success").inner_text()
    row = page.locator(f"#site-{site['id']}")
    assert "fermé le" in row.inner_text()
    assert row.get_by_role("link", name="Modifier le site Revermont — Ambérieu").count() == 0  # no more actions
    checker.check("site-ferme")
    assert api(platform, issuer, f"/sites/{site['id']}")["closed_at"] == closing
    closes = [e for e in api(platform, issuer, f"/history/site/{site['id']}") if e["action"] == "close"]
    assert [e["reason"] for e in closes] == ["Locaux rendus au propriétaire."]


def test_the_centre_de_reprise_is_edited_by_the_national_administration_only_e1(web, platform, issuer):
    """The service refuses the reprise's changes and new sites to a UD (national only): no button offered, the
    pages refused."""
    page, checker = web
    demo_login(page, checker, UD01)
    page.goto("/centres?q=Haut-Bugey&type=SITE")
    page.locator("#resultats tbody tr a").first.click()
    assert page.get_by_role("link", name="Modifier le centre").count() == 0
    assert page.get_by_role("link", name="Ajouter un site").count() == 0  # its sites are moved out, not added
    checker.check("reprise-ud")
    centre_id = page.url.split("/centres/")[1].split("?")[0]
    assert page.goto(f"/centres/{centre_id}/modifier").status == 403
    assert page.get_by_label("Raison sociale").count() == 0
    assert page.goto(f"/centres/{centre_id}/sites/nouveau").status == 403


def test_the_centre_s_own_users_are_offered_no_change_e3_e4(web, platform, issuer):
    """centre.update and site.write are the agents' (establishments' policy): the gestionnaire reads only."""
    page, checker = web
    demo_login(page, checker, "Centre de formation (GRETA de l'Ain)")
    open_centre(page, GRETA)
    assert "Revermont — Bourg-en-Bresse" in page.locator("#sites").inner_text()
    for name in ("Modifier le centre", "Ajouter un site", "Modifier le site Revermont — Bourg-en-Bresse",
                 "Fermer le site Revermont — Bourg-en-Bresse"):
        assert page.get_by_role("link", name=name).count() == 0, name
    checker.check("centre-lecture")
    centre_id = page.url.split("/centres/")[1].split("?")[0]
    assert page.goto(f"/centres/{centre_id}/modifier").status == 403
    assert page.goto(f"/centres/{centre_id}/sites/nouveau").status == 403
