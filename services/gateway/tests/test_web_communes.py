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
    form = page.locator("#nouveau-candidat")
    genre, nom, prenom, born = person
    form.get_by_label("Genre").select_option(genre)
    form.get_by_label("Nom de naissance").fill(nom)
    form.get_by_label("Prénoms").fill(prenom)
    form.get_by_label("Date de naissance").fill(born)
    form.get_by_label("Commune de naissance").fill(birth_commune)
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
