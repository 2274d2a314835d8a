"""L3: a birth name without a letter (« 1234 », « --- ») is a French 422 on its field, for the creation and the
duplicate check, even when a record shares the birth date; and the duplicate check itself never fails on a name it
cannot read (a record stored before the rule, a direct call)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import update

from ceres_candidates.models import Candidate
from ceres_candidates.service_layer.duplicates import find_duplicates

MESSAGE = "Le nom de naissance doit contenir au moins une lettre."
BORN = "1979-05-21"


@pytest.fixture(scope="module")
def existing(client, tokens, h):
    made = client.post("/candidates", json=h.person("Lettrier", ["Aude"], BORN), headers=tokens["ud01"])
    assert made.status_code == 201, made.json
    return made.json["id"]


@pytest.mark.parametrize("nom", ["1234", "---", "' '"])
def test_l3_a_birth_name_without_a_letter_is_refused_on_its_field(client, tokens, h, existing, nom):
    created = client.post("/candidates", json=h.person(nom, ["Aude"], BORN), headers=tokens["ud01"])
    assert created.status_code == 422, created.json
    assert created.json["errors"]["nom_naissance"] == [MESSAGE]
    checked = client.post("/candidates/duplicates", json={"nom_naissance": nom, "prenoms": ["Aude"],
                                                          "birth_date": BORN}, headers=tokens["ud01"])
    assert checked.status_code == 422 and checked.json["errors"]["nom_naissance"] == [MESSAGE]
    changed = client.patch(f"/candidates/{existing}", json={"nom_naissance": nom}, headers=tokens["ud01"])
    assert changed.status_code == 422 and changed.json["errors"]["nom_naissance"] == [MESSAGE]


def test_l3_the_duplicate_check_reads_no_name_without_failing(rt, existing):
    with rt.session_factory() as session:
        assert find_duplicates(session, nom_naissance="1234", nom_usage=None, prenoms=["Aude"],
                               birth_date=date.fromisoformat(BORN)) == []
        # a record whose name has no key (stored before the rule): the others are still compared
        session.execute(update(Candidate).where(Candidate.id == existing).values(nom_key="", nom_phon=""))
        assert find_duplicates(session, nom_naissance="Lettrier", nom_usage=None, prenoms=["Aude"],
                               birth_date=date.fromisoformat(BORN)) == []
        session.rollback()
