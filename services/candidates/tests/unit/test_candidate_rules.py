"""The candidates' rules (C1, C3, C4, C5), with no server: checks, name keys, birth place and address against a
small referential in memory."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from ceres_candidates.domain import checks, names, places
from ceres_candidates.domain.countries import FRANCE, country

TODAY = date(2024, 6, 15)


@pytest.mark.parametrize("birth_date,problem", [
    (date(1990, 3, 1), None),
    (date(2010, 6, 15), None),  # 14 today
    (date(2010, 6, 16), "Année de naissance incohérente : le candidat aurait 13 ans (au moins 14 ans attendus)."),
    (date(1923, 6, 16), None),  # 100, 101 tomorrow
    (date(1923, 6, 15), "Année de naissance incohérente : le candidat aurait 101 ans."),
    (date(2024, 6, 16), "Date de naissance impossible : elle est dans le futur."),
    (None, "La date de naissance est obligatoire."),
])
def test_C5_birth_date(birth_date, problem):
    assert checks.birth_date_problem(birth_date, TODAY) == problem


@pytest.mark.parametrize("value,problem", [
    ("D'ARTAGNAN-Le Bœuf", None), ("Müller", None), ("Æsa", None),
    ("MARIACH1", "Le nom contient des caractères non autorisés : « 1 »."),
    ("Du#pont!", "Le nom contient des caractères non autorisés : « ! » « # »."),
    ("---", "Le nom doit contenir au moins une lettre."),
    ("Jean--Paul", "Le nom contient des séparateurs répétés."),
    ("Jean  Paul", "Le nom contient des séparateurs répétés."),
    ("DU\u202ePONT", "Le nom contient des caractères invisibles ou de contrôle non autorisés."),
    ("DU\u200bPONT", "Le nom contient des caractères invisibles ou de contrôle non autorisés."),
    ("  ", "Le nom est obligatoire."),
])
def test_C5_L7_characters_allowed_in_names(value, problem):
    assert checks.name_problem(value, "Le nom", required=True) == problem


def test_C5_an_optional_name_may_be_empty():
    assert checks.name_problem(None, "Le nom d'usage", required=False) is None
    assert checks.name_problem("", "Le nom d'usage", required=False) is None


GOOD = {"birth_date": date(1990, 3, 1), "nom_naissance": "DUPONT", "prenoms": ["Marie", "Élise"],
        "birth_country_code": FRANCE, "birth_commune_code": "01053", "address_lines": ["12 rue des Lilas"],
        "address_code_postal": "01000"}


def test_C4_C5_a_complete_record_can_be_validated():
    assert checks.validation_problems(GOOD, TODAY) == {}
    abroad = {**GOOD, "birth_country_code": "99109", "birth_commune_code": None}
    assert checks.validation_problems(abroad, TODAY) == {}


def test_C4_C5_every_problem_on_its_field():
    record = {"birth_date": date(2020, 1, 1), "nom_naissance": "DUP0NT", "nom_usage": "X--Y",
              "prenoms": ["Marie", "J3an"], "birth_country_code": FRANCE, "birth_commune_code": None,
              "address_lines": [], "address_code_postal": "01000"}
    assert checks.validation_problems(record, TODAY) == {
        "birth_date": ["Année de naissance incohérente : le candidat aurait 4 ans (au moins 14 ans attendus)."],
        "nom_naissance": ["Le nom de naissance contient des caractères non autorisés : « 0 »."],
        "nom_usage": ["Le nom d'usage contient des séparateurs répétés."],
        "prenoms": ["Le prénom n° 2 contient des caractères non autorisés : « 3 »."],
        "birth_commune_code": ["La commune de naissance est obligatoire pour une personne née en France."],
        "address": ["L'adresse postale est obligatoire pour valider le dossier."],
    }
    assert checks.validation_problems({**GOOD, "prenoms": [], "birth_country_code": None}, TODAY) == {
        "prenoms": ["Au moins un prénom est obligatoire."],
        "birth_country_code": ["Le pays de naissance est obligatoire."]}


def test_C1_names_compared_without_accents_case_or_separators():
    assert names.fold("Éloïse-Marie  d'Hérouville") == "ELOISE MARIE D HEROUVILLE"
    assert names.fold("Œuvre") == "OEUVRE" and names.fold(None) == ""
    assert names.name_key("Le Goff") == names.name_key("LEGOFF") == names.name_key("le-goff") == "LEGOFF"
    assert names.given_names_key(["Jean-Pierre", "Élie"]) == "JEANPIERRE ELIE"
    assert names.phonetic("Phillipe") == names.phonetic("Philippe") == "FILIP"
    assert names.phonetic("Lefebvre") != names.phonetic("Lefèvre")  # left to the fuzzy score
    assert names.given_names_phonetic(["Henri", "Paul"]) == names.given_names_phonetic(["Paul", "Henri"])
    assert names.dedup_key("Phillipe", ["Paul", "Henri"]) == names.dedup_key("PHILIPPE", ["Henri", "Paul"])


def test_L5_keys_fit_their_columns_even_when_folding_lengthens_a_name():
    assert len(names.name_key("\ufb03" * 60)) == names.NAME_KEY_MAX  # « ﬃ » folds to three letters
    assert len(names.given_names_key(["\ufb03" * 40] * 6)) <= names.GIVEN_KEY_MAX
    assert len(names.dedup_key("\ufb03" * 90, ["\ufb03" * 90] * 3)) <= names.DEDUP_KEY_MAX


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    departement: str
    region: str | None
    postcodes: tuple[str, ...]


class Referential:
    """01053 is Bourg-en-Bresse; 01015 existed until 2016 only (merged, C3)."""

    def get(self, code, on=None):
        if code == "01053":
            return Commune("01053", "Bourg-en-Bresse", "01", "84", ("01000",))
        if code == "01015" and (on is not None and on < date(2016, 1, 1)):
            return Commune("01015", "Arbignieu", "01", "84", ("01300",))
        return None


def test_C3_a_birth_commune_that_existed_on_the_birth_date():
    place, errors = places.resolve_birth_place(Referential(), date(1980, 5, 1), FRANCE, "01015")
    assert errors == {} and (place.commune_label, place.departement, place.country_label) == (
        "Arbignieu", "01", "FRANCE")
    place, errors = places.resolve_birth_place(Referential(), date(2017, 5, 1), FRANCE, "01015")
    assert place is None and errors == {"birth_commune_code": [
        "Aucune commune de code « 01015 » n'existait le 01/05/2017 dans le référentiel des communes."]}


def test_C3_born_abroad_a_known_country_and_no_commune():
    place, errors = places.resolve_birth_place(Referential(), date(1980, 5, 1), "99109", None)
    assert errors == {} and (place.country_label, place.commune_code) == ("ALLEMAGNE", None)
    assert places.resolve_birth_place(Referential(), date(1980, 5, 1), "99109", "01053") == (None, {
        "birth_commune_code": ["Une commune de naissance ne se saisit que pour une personne née en France."]})
    assert places.resolve_birth_place(Referential(), date(1980, 5, 1), "99999", None) == (None, {
        "birth_country_code": ["Pays inconnu : « 99999 » n'est pas un code pays INSEE."]})
    place, errors = places.resolve_birth_place(Referential(), date(1980, 5, 1), None, None)  # a draft: France
    assert errors == {} and place.country_code == FRANCE and place.commune_code is None
    assert country("99134").label == "ESPAGNE" and country(None) is None


def test_C2_an_address_in_france_names_a_commune_and_one_of_its_postcodes():
    ref = Referential()
    address, errors = places.resolve_address(ref, {"lines": [" 12 rue des Lilas ", ""], "code_postal": "01000",
                                                   "commune_code": "01053"})
    assert errors == {} and address.lines == ["12 rue des Lilas"]
    assert (address.commune_label, address.departement, address.region) == ("Bourg-en-Bresse", "01", "84")
    assert places.resolve_address(ref, {"lines": ["1 rue"], "code_postal": "69001", "commune_code": "01053"}) == (
        None, {"address": {"code_postal": ["Le code postal 69001 ne correspond pas à Bourg-en-Bresse (01000)."]}})
    assert places.resolve_address(ref, {"lines": ["1 rue"], "code_postal": "01300", "commune_code": "01015"}) == (
        None, {"address": {"commune_code": ["La commune « 01015 » n'existe pas (ou plus) dans le référentiel."]}})
    assert places.resolve_address(ref, {"lines": [], "code_postal": ""}) == (None, {"address": {
        "lines": ["Au moins une ligne d'adresse est obligatoire."], "code_postal": ["Le code postal est obligatoire."],
        "commune_code": ["La commune est obligatoire pour une adresse en France."]}})
    assert places.resolve_address(ref, None) == (None, {})


def test_C2_an_address_abroad_has_a_free_locality():
    address, errors = places.resolve_address(Referential(), {"lines": ["Hauptstraße 1"], "code_postal": "10115",
                                                             "country": "allemagne", "commune_label": "Berlin"})
    assert errors == {} and (address.country, address.commune_label, address.commune_code) == (
        "ALLEMAGNE", "Berlin", None)
    assert places.resolve_address(Referential(), {"lines": ["x"], "code_postal": "1", "country": "Suisse"}) == (
        None, {"address": {"commune_label": ["La localité est obligatoire pour une adresse à l'étranger."]}})
