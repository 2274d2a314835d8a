"""The département → région table shared by identity (I4) and printing (P8)."""
from __future__ import annotations

from collections import Counter

from ceres_shared.territories import DEPARTEMENTS, OVERSEAS_REGIONS, REGIONS, region_of


def test_every_departement_has_exactly_one_region():
    # 94 of mainland France without 20 (Corsica is 2A and 2B), plus the five DROM.
    assert len(DEPARTEMENTS) == 96 + 5
    assert "20" not in DEPARTEMENTS and {"2A", "2B", "971", "972", "973", "974", "976"} <= DEPARTEMENTS
    assert len(REGIONS) == 13 + 5 and OVERSEAS_REGIONS <= REGIONS
    per_region = Counter(region_of(dep) for dep in DEPARTEMENTS)
    assert set(per_region) == REGIONS and per_region["84"] == 12 and per_region["11"] == 8


def test_region_of_known_and_unknown_codes():
    assert [region_of(d) for d in ("01", "69", "75", "2A", "2B", "974", "976")] == \
        ["84", "84", "11", "94", "94", "04", "06"]
    assert region_of("99") is None and region_of("") is None and region_of(None) is None
    assert region_of("975") is None  # Saint-Pierre-et-Miquelon is a COM, not a département
