"""Départements and régions (INSEE codes, régions of 2016): the one table every service reads, for the competence
of agents (I4) and for the région of a record known only by its département (P8)."""
from __future__ import annotations

_DEPARTEMENTS_OF_REGION = {
    "84": "01 03 07 15 26 38 42 43 63 69 73 74",  # Auvergne-Rhône-Alpes
    "27": "21 25 39 58 70 71 89 90",  # Bourgogne-Franche-Comté
    "53": "22 29 35 56",  # Bretagne
    "24": "18 28 36 37 41 45",  # Centre-Val de Loire
    "94": "2A 2B",  # Corse
    "44": "08 10 51 52 54 55 57 67 68 88",  # Grand Est
    "32": "02 59 60 62 80",  # Hauts-de-France
    "11": "75 77 78 91 92 93 94 95",  # Île-de-France
    "28": "14 27 50 61 76",  # Normandie
    "75": "16 17 19 23 24 33 40 47 64 79 86 87",  # Nouvelle-Aquitaine
    "76": "09 11 12 30 31 32 34 46 48 65 66 81 82",  # Occitanie
    "52": "44 49 53 72 85",  # Pays de la Loire
    "93": "04 05 06 13 83 84",  # Provence-Alpes-Côte d'Azur
    "01": "971",  # Guadeloupe
    "02": "972",  # Martinique
    "03": "973",  # Guyane
    "04": "974",  # La Réunion
    "06": "976",  # Mayotte
}
REGION_OF_DEPARTEMENT: dict[str, str] = {dep: region for region, deps in _DEPARTEMENTS_OF_REGION.items()
                                         for dep in deps.split()}
DEPARTEMENTS = frozenset(REGION_OF_DEPARTEMENT)
REGIONS = frozenset(_DEPARTEMENTS_OF_REGION)
OVERSEAS_REGIONS = frozenset({"01", "02", "03", "04", "06"})  # served by a DEETS, not a DREETS


def region_of(departement: str | None) -> str | None:
    """'69' -> '84', '2A' -> '94', '974' -> '04'; None for an unknown code."""
    return REGION_OF_DEPARTEMENT.get(departement or "")
