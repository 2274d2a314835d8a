"""I4 as the shared code states it, with no server: who a principal covers, and a département's région."""
from __future__ import annotations

import pytest

from ceres_shared.auth import Principal
from ceres_shared.territories import region_of
from ceres_shared.validation import invisible_characters


def test_I4_an_agent_covers_their_departement_region_or_the_nation():
    ud = Principal("u", "ud", departements=frozenset({"01"}))
    dreets = Principal("d", "dreets", regions=frozenset({"84"}))
    dgefp = Principal("n", "dgefp", national=True)
    assert ud.covers_location("01", "84") and not ud.covers_location("69", "84")
    assert dreets.covers_location("69", "84") and not dreets.covers_location("75", "11")
    assert dgefp.covers_location("974", "04") and dgefp.covers_location(None, None)
    assert not ud.covers_location(None, None) and not dreets.covers_location("01", None)
    assert ud.is_agent and not Principal("c", "centre").is_agent


def test_I4_a_centre_user_covers_their_sirets_only():
    centre = Principal("c", "centre", sirets=frozenset({"73282932000074"}))
    assert centre.covers_siret("73282932000074") and not centre.covers_siret("35600000048315")
    assert not centre.covers_location("01", "84")
    assert Principal("n", "admin", national=True).covers_siret("35600000048315")


@pytest.mark.parametrize("departement,region", [
    ("01", "84"), ("69", "84"), ("75", "11"), ("2A", "94"), ("2B", "94"), ("971", "01"), ("974", "04"),
    ("976", "06"), ("20", None), ("99", None), (None, None)])
def test_a_departements_region(departement, region):
    assert region_of(departement) == region


def test_C5_L7_invisible_characters_are_found_lines_kept_where_asked():
    assert invisible_characters("DUPONT") == []
    assert invisible_characters("DU\u202ePONT") and invisible_characters("A\u200bB")
    assert invisible_characters("ligne 1\nligne 2") != []
    assert invisible_characters("ligne 1\nligne 2", multiline=True) == []
