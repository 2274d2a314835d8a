"""I4: the territory each agent profile needs, field by field in French (identity's agent accounts), no server."""
from __future__ import annotations

import pytest

from ceres_identity.service_layer.agents import scope_errors


@pytest.mark.parametrize("profile,departements,regions", [
    ("ud", ["01"], []), ("ud", ["01", "974"], []), ("dreets", [], ["84"]), ("deets", [], ["04"]),
    ("dgefp", [], []), ("afpa", [], []), ("admin", [], [])])
def test_I4_each_profile_with_its_territory(profile, departements, regions):
    assert scope_errors(profile, departements, regions) == {}


@pytest.mark.parametrize("profile,departements,regions,errors", [
    ("ud", [], [], {"departements": ["Une UD est compétente pour au moins un département."]}),
    ("ud", ["01"], ["84"], {"regions": ["Une UD n'a pas de région."]}),
    ("ud", ["20", "99"], [], {"departements": ["Département inconnu : 20, 99."]}),
    ("dreets", [], [], {"regions": ["Indiquez une région, et une seule."]}),
    ("dreets", [], ["84", "11"], {"regions": ["Indiquez une région, et une seule."]}),
    ("dreets", [], ["04"], {"regions": ["Outre-mer, le profil est DEETS."]}),
    ("deets", [], ["84"], {"regions": ["Une DEETS est compétente pour une région d'outre-mer."]}),
    ("deets", [], ["77"], {"regions": ["Région inconnue : 77."]}),
    ("dreets", ["01"], ["84"], {"departements": ["Ce profil n'a pas de département."]}),
    ("dgefp", ["01"], [], {"profile": ["Ce profil n'a pas de périmètre géographique."]}),
    ("afpa", [], ["84"], {"profile": ["Ce profil n'a pas de périmètre géographique."]}),
])
def test_I4_a_profile_without_the_territory_it_needs(profile, departements, regions, errors):
    assert scope_errors(profile, departements, regions) == errors
