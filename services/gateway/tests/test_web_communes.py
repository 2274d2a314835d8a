"""« Commune » fields typed as people know them (C3, E4): a name, a postcode or an INSEE code, resolved by the
gateway on submit — one commune: saved with its INSEE code; several: the form comes back with « Précisez la
commune » and the matches (postcode, département); none: a French error next to the field. Suggestions as the user
types (communes.js, from /communes/suggestions); a birth commune found as it was, even merged since. And a link to
one site opens the page of the centre's sites that holds it. Driven in Debian's Chromium against the whole
platform; each page: no console error, axe-core, a screenshot."""
from __future__ import annotations

import re
import sys
import uuid
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_web_journeys import browser, web  # noqa: E402,F401  (fixtures: Chromium, a fresh context per test)
from test_web_centre_fixes import candidate_row, flash, new_centre_session, platform  # noqa: E402,F401  (platform:
# the whole platform, once for this module)
from test_web_centre import fill_person  # noqa: E402  (the new-candidate form)
from webplatform import demo_login  # noqa: E402

UD01 = "Agent UD de l'Ain (01)"
GRETA = "30012845100014"  # the demo's centre in Ain (01)
LYON = "41822976100014"


def establishments(platform, issuer, path: str, method: str = "GET", body: dict | None = None):
    """The establishments service over HTTP through the gateway, as the DGEFP (national)."""
    token = issuer.issue(f"dgefp-{uuid.uuid4().hex[:6]}", "dgefp", scope={"national": True}, ttl=600)
    answer = requests.request(method, f"{platform.url}/api/establishments{path}", json=body, timeout=15,
                              headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code in (200, 201), (path, answer.status_code, answer.text)
    return answer.json()


def centre_id(platform, issuer, siret: str) -> str:
    return establishments(platform, issuer, f"/centres/by-siret/{siret}")["id"]


def sites_named(platform, issuer, centre: str) -> dict[str, dict]:
    return {s["name"]: s for s in establishments(platform, issuer, f"/centres/{centre}/sites")}


def commune(page, label: str = "Commune"):
    """The text field of that label (the choices' group under it is labelled « Précisez la commune »)."""
    return page.locator("input[type=text]").and_(page.get_by_label(label))


def pick(page, field_id: str, code: str) -> None:
    """Tick a commune among those offered (the DSFR radio is drawn by its label, which takes the click)."""
    page.locator(f"label[for='{field_id}-choix-{code}']").click()
    assert page.locator(f"#{field_id}-choix-{code}").is_checked()


def new_site_form(page, checker, greta: str, name: str) -> None:
    """The UD of the Ain adds a site to the GRETA: its name and address typed, the commune left to the test."""
    demo_login(page, checker, UD01)
    page.goto(f"/centres/{greta}/sites/nouveau")
    page.get_by_label("Nom du site").fill(name)
    page.get_by_label("Adresse").fill("2 avenue de la Gare")


def new_candidate(page, person: tuple[str, str, str, str], birth_commune: str, address_commune: str):
    """The centre's form of a new candidate: (genre, nom, prénom, birth date), the communes as typed; sent."""
    form = fill_person(page, *person, birth_commune)
    form.get_by_label("Numéro et voie").fill("4 rue du Lac")
    form.get_by_label("Commune (adresse en France)").fill(address_commune)
    page.get_by_role("button", name="Créer et inscrire").click()


def created_record(platform, page, name: str):
    created = re.search(rf"Le dossier n° (\d+) \({name}\) est créé et inscrit", flash(page), re.I)
    assert created, flash(page)
    return candidate_row(platform, int(created.group(1)))


def test_what_a_commune_field_takes_is_split_into_a_name_and_a_code():
    """The shapes people type, and the one the suggestions write (C3)."""
    from ceres_gateway.web.communes import _split, label

    assert _split("Bourg-en-Bresse (01000)") == ("Bourg-en-Bresse", "01000")
    assert _split("01000 Bourg-en-Bresse") == ("Bourg-en-Bresse", "01000")
    assert _split("Saint-Denis 97400") == ("Saint-Denis", "97400")
    assert _split("2a004") == ("", "2A004")  # Ajaccio's INSEE code, typed in lower case
    assert _split("Lyon") == ("Lyon", None) and _split("Paris 15e") == ("Paris 15e", None)
    lyon = {"code": "69123", "name": "Lyon", "postcodes": ["69001", "69002", "69003"]}
    assert (label(lyon), label(lyon, "69003"), label(lyon, "75001")) == ("Lyon (69001)", "Lyon (69003)",
                                                                         "Lyon (69001)")
    assert label({"code": "01015", "name": "Arbignieu", "postcodes": []}) == "Arbignieu (01015)"


def test_the_postcode_follows_the_commune():
    """An empty postcode, or the record's one left unchanged when the commune changed, follows the commune (its only
    one, or the one typed with it); a postcode the user typed is kept, and the service says if it does not match."""
    from ceres_gateway.web.communes import Resolution, postcode_for

    lyon = {"code": "69123", "name": "Lyon", "postcodes": ["69001", "69002", "69003"]}
    bourg = {"code": "01053", "name": "Bourg-en-Bresse", "postcodes": ["01000"]}
    assert postcode_for(Resolution("Bourg-en-Bresse", commune=bourg), "69003", "69003") == "01000"  # left: replaced
    assert postcode_for(Resolution("Bourg-en-Bresse", commune=bourg), "") == "01000"
    assert postcode_for(Resolution("Bourg-en-Bresse", commune=bourg), "69003", "01000") == "69003"  # typed: kept
    assert postcode_for(Resolution("Bourg-en-Bresse", commune=bourg), "69003") == "69003"  # a new record: typed
    assert postcode_for(Resolution("Lyon (69002)", commune=lyon), "") == "69002"  # typed with the commune
    assert postcode_for(Resolution("Lyon (69002)", commune=lyon), "69003") == "69003"  # the form's, Lyon's too
    assert postcode_for(Resolution("Lyon", commune=lyon), "01000", "01000") == "01000"  # which of Lyon's? not guessed
    assert postcode_for(Resolution("Arbignieu", commune={"code": "01015", "postcodes": []}), "01300") == "01300"
    assert postcode_for(Resolution("Nulle part"), "01000") == "01000"  # not resolved: unchanged


def test_a_site_commune_by_name_postcode_or_choice_never_its_insee_code_e4_c3(web, platform, issuer):
    page, checker = web
    greta = centre_id(platform, issuer, GRETA)
    new_site_form(page, checker, greta, "Annexe de la gare")

    # None: the French error next to the field, what was typed kept, nothing saved.
    commune(page).fill("Nulle-Part-sur-Rien")
    page.get_by_role("button", name="Ajouter le site").click()
    error = page.locator("#commune_code-erreur").inner_text()
    assert error == ("Aucune commune ne correspond à « Nulle-Part-sur-Rien » : vérifiez l'orthographe, ou saisissez "
                     "le code postal.")
    assert commune(page).get_attribute("aria-invalid") == "true"
    assert commune(page).input_value() == "Nulle-Part-sur-Rien"
    assert page.locator("#erreur-formulaire a[href='#commune_code']").count() == 1
    checker.check("commune-inconnue")
    assert "Annexe de la gare" not in sites_named(platform, issuer, greta)

    # A postcode of two communes: « Précisez la commune », each with its postcode and département.
    commune(page).fill("01000")
    page.get_by_role("button", name="Ajouter le site").click()
    choice = page.locator("#commune_code-choix")
    assert "Précisez la commune" in choice.locator("legend").inner_text()
    assert "Plusieurs communes correspondent à « 01000 »" in page.locator("#commune_code-erreur").inner_text()
    labels = choice.locator("label").all_inner_texts()
    assert [label.split("\n")[0].strip() for label in labels] == ["Bourg-en-Bresse", "Saint-Denis-lès-Bourg"]
    assert all("01000 — Ain (01)" in label for label in labels)
    checker.check("precisez-la-commune")
    assert "Annexe de la gare" not in sites_named(platform, issuer, greta)
    pick(page, "commune_code", "01344")  # Saint-Denis-lès-Bourg
    page.get_by_role("button", name="Ajouter le site").click()
    assert "Annexe de la gare" in flash(page)
    site = sites_named(platform, issuer, greta)["Annexe de la gare"]
    assert (site["commune_code"], site["commune_label"], site["code_postal"]) == (
        "01344", "Saint-Denis-lès-Bourg", "01000")  # the postcode typed fills the blank one
    assert page.locator(f"#site-{site['id']}").is_visible()  # the page of the centre holding the new site
    checker.check("site-ajoute")

    # Edited: the commune as people know it; a name alone, one commune: saved with its INSEE code.
    page.get_by_role("link", name="Modifier le site Annexe de la gare").click()
    assert commune(page).input_value() == "Saint-Denis-lès-Bourg (01000)"
    checker.check("modifier-site")
    commune(page).fill("amberieu en bugey")  # accents, case and hyphens aside
    page.locator("#code_postal").fill("")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    assert "est modifié" in flash(page)
    edited = establishments(platform, issuer, f"/sites/{site['id']}")
    assert (edited["commune_code"], edited["commune_label"], edited["departement"]) == (
        "01004", "Ambérieu-en-Bugey", "01")

    # A name of six communes: the choice, the one of the Ain picked; a choice left for another text is dropped.
    page.get_by_role("link", name="Modifier le site Annexe de la gare").click()
    commune(page).fill("Apremont")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    choice = page.locator("#commune_code-choix")
    assert choice.locator("input[type=radio]").count() == 6
    assert "01100 — Ain (01)" in choice.locator("label[for='commune_code-choix-01011']").inner_text()
    checker.check("apremont")
    pick(page, "commune_code", "08017")  # Apremont in the Ardennes, then the agent types again
    commune(page).fill("Oyonnax")
    page.locator("#code_postal").fill("")  # the former commune's postcode would not match (the service says so)
    page.get_by_role("button", name="Enregistrer les modifications").click()
    assert "est modifié" in flash(page)
    assert establishments(platform, issuer, f"/sites/{site['id']}")["commune_code"] == "01283"

    # The INSEE code still works (people who know it); out of the agent's territory: the service's refusal.
    page.get_by_role("link", name="Modifier le site Annexe de la gare").click()
    commune(page).fill("Lyon (69003)")
    page.locator("#code_postal").fill("")
    page.get_by_role("button", name="Enregistrer les modifications").click()
    assert "hors de votre périmètre" in page.locator("#commune_code-erreur").inner_text()
    assert commune(page).input_value() == "Lyon (69003)"
    checker.check("hors-territoire")
    commune(page).fill("01053")
    page.locator("#code_postal").fill("")  # the former commune's postcode would not match (the service says so)
    page.get_by_role("button", name="Enregistrer les modifications").click()
    assert "est modifié" in flash(page)
    assert establishments(platform, issuer, f"/sites/{site['id']}")["commune_code"] == "01053"


def test_communes_are_suggested_as_the_user_types(web, platform, issuer):
    page, checker = web
    greta = centre_id(platform, issuer, GRETA)
    new_site_form(page, checker, greta, "Antenne suggérée")
    field = commune(page)
    field.press_sequentially("bourg-en-b", delay=30)
    suggestions = page.locator("#commune_code-suggestions option")
    suggestions.first.wait_for(state="attached")
    assert suggestions.first.get_attribute("value") == "Bourg-en-Bresse (01000)"
    assert "Ain (01)" in suggestions.first.get_attribute("label")
    checker.check("suggestions")
    field.fill(suggestions.first.get_attribute("value"))  # what picking the suggestion writes
    page.get_by_role("button", name="Ajouter le site").click()
    assert "Antenne suggérée" in flash(page)
    assert sites_named(platform, issuer, greta)["Antenne suggérée"]["commune_code"] == "01053"
    # the endpoint: JSON, never an error for a short or unknown text
    for text, expected in (("b", []), ("zzzzzz", []), ("01000", ["01053", "01344"])):
        answer = page.request.get(f"/communes/suggestions?q={text}")
        assert answer.status == 200 and [c["code"] for c in answer.json()["communes"]] == expected


def test_a_candidates_communes_birth_one_merged_since_and_address_c2_c3(web, platform):
    page, checker = web
    new_centre_session(page, checker)
    page.get_by_role("link", name="Inscrire des candidats").click()
    new_candidate(page, ("F", "Berthet", "Odile", "1958-03-02"), "Brion", "Nantua-les-Bains")  # 8 Brion, no Nantua-
    assert page.locator("#address-commune_code-erreur").inner_text().startswith(
        "Aucune commune ne correspond à « Nantua-les-Bains »")
    birth = page.locator("#birth_commune_code-choix")
    assert "Précisez la commune de naissance" in birth.locator("legend").inner_text()
    assert birth.locator("input[type=radio]").count() == 8 and "01460 — Ain (01)" in birth.inner_text()
    checker.check("naissance-a-preciser")
    pick(page, "birth_commune_code", "01063")  # Brion (Ain)
    page.locator("#nouveau-candidat").get_by_label("Commune (adresse en France)").fill("Apremont (01100)")
    page.get_by_role("button", name="Créer et inscrire").click()
    record = created_record(platform, page, "BERTHET Odile")
    assert (record.birth_commune_code, record.address_commune_code) == ("01063", "01011")

    # C3: born in 1960 in Arbignieu, a commune merged into Arboys en Bugey in 2016: found by its name.
    page.get_by_role("link", name="Inscrire des candidats").click()
    new_candidate(page, ("M", "Cottaz", "Marcel", "1960-05-12"), "Arbignieu", "01300")
    address = page.locator("#address-commune_code-choix")
    assert address.locator("input[type=radio]").count() == 10  # the most probable; the postcode makes it sharper
    assert "ajoutez le code postal au nom" in page.locator("#address-commune_code-erreur").inner_text()
    checker.check("adresse-a-preciser")
    pick(page, "address-commune_code", "01034")  # Belley
    page.get_by_role("button", name="Créer et inscrire").click()
    record = created_record(platform, page, "COTTAZ Marcel")
    assert (record.birth_commune_code, record.address_commune_code, record.address_code_postal) == (
        "01015", "01034", "01300")


def test_the_agent_corrects_an_address_commune_by_its_name_p7(web, platform):
    page, checker = web
    demo_login(page, checker, "Administrateur")
    page.goto("/agent/candidats/4/adresse")
    field = page.get_by_label("Commune (adresse en France)")
    assert re.fullmatch(r".+ \(\d{5}\)", field.input_value()), field.input_value()  # a name, not a code
    checker.check("adresse-agent")
    field.fill("Xyzzy")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    assert page.locator("#address-commune_code-erreur").inner_text().startswith("Aucune commune ne correspond à")
    checker.check("adresse-commune-inconnue")
    field.fill("Oyonnax")
    page.get_by_label("Code postal (obligatoire)").fill("01100")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    assert "L'adresse du candidat est corrigée" in flash(page)
    assert candidate_row(platform, 4).address_commune_code == "01283"


def test_a_link_to_one_site_opens_the_page_holding_it(web, platform, issuer):
    page, checker = web
    lyon = centre_id(platform, issuer, LYON)
    made = [establishments(platform, issuer, f"/centres/{lyon}/sites", "POST", {
        "name": f"Salle {n:02d}", "adresse": "1 rue Paul Bert", "commune_code": "69383"}) for n in range(55)]
    demo_login(page, checker, "Agent UD du Rhône (69)")
    last = made[-1]
    page.goto(f"/centres/{lyon}?site={last['id']}")
    caption = page.locator("#sites caption").inner_text()
    assert re.search(r"page 2 sur 2", caption), caption
    assert page.locator(f"#site-{last['id']}").is_visible()
    checker.check("site-en-page-2")
    page.goto(f"/centres/{lyon}?site={made[0]['id']}")
    assert "page 1 sur 2" in page.locator("#sites caption").inner_text()
    assert page.locator(f"#site-{made[0]['id']}").is_visible()
    page.goto(f"/centres/{lyon}?page=9")  # past the end: the last page
    assert "page 2 sur 2" in page.locator("#sites caption").inner_text()
    # the transfer page's « Annuler » opens where the site is
    page.goto(f"/sites/{last['id']}/transfert")
    page.get_by_role("link", name="Annuler").click()
    assert page.locator(f"#site-{last['id']}").is_visible()


def test_the_centre_receiving_a_site_is_found_by_a_bounded_search_e5(web, platform, issuer):
    page, checker = web
    misplaced = establishments(platform, issuer, "/search?q=Haut-Bugey&type=SITE")["sites"][0]
    demo_login(page, checker, UD01)
    page.goto(f"/sites/{misplaced['id']}/transfert")
    page.get_by_label("Rechercher le centre qui reçoit le site").fill("zzzz")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    assert "Aucun autre centre de votre périmètre ne correspond à « zzzz »" in page.locator("#aucun-centre").inner_text()
    page.get_by_label("Rechercher le centre qui reçoit le site").fill("revermont")
    page.get_by_role("button", name="Rechercher", exact=True).click()
    found = page.locator("#centres-trouves")
    assert "Centres trouvés pour « revermont » (1)" in found.locator("caption").inner_text()
    assert "CENTRE DE FORMATION DU REVERMONT" in found.inner_text() and "Centre de reprise" not in found.inner_text()
    checker.check("centres-trouves")
    found.get_by_role("button", name=f"Choisir CENTRE DE FORMATION DU REVERMONT (SIRET {GRETA})").click()
    confirmation = page.locator("#confirmation")
    assert "Confirmez le transfert" in confirmation.inner_text() and GRETA in confirmation.inner_text()
    checker.check("confirmer-transfert")
    assert establishments(platform, issuer, f"/sites/{misplaced['id']}")["centre_id"] == misplaced["centre"]["id"]
