"""Where a centre is, for the competence of agents (I4): département from the INSEE commune code, région
(INSEE codes of the 2016 régions) from the département."""
from __future__ import annotations

# The one table of the platform (shared with printing).
from ceres_shared.territories import DEPARTEMENTS, REGIONS, region_of  # noqa: F401  (names of this module)
from ceres_shared.territories import OVERSEAS_REGIONS as DROM_REGIONS  # noqa: F401  served by a DEETS


def departement_of(commune_code: str | None) -> str | None:
    """'01053' -> '01', '2A004' -> '2A', '97411' -> '974' (overseas départements have three characters)."""
    if not commune_code or len(commune_code) < 3:
        return None
    return commune_code[:3] if commune_code.startswith("97") else commune_code[:2]

