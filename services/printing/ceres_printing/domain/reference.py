"""Reference data of the printing service.

DEMO DATA: the DEETS addresses and the signatories below are plausible, not official; replace them with the
administration's reference before production.
"""
from __future__ import annotations

# Région (INSEE, 2016) of every département: a pre-CERES diploma (P8) has no site copy to take it from.
from ceres_shared.territories import OVERSEAS_REGIONS, REGION_OF_DEPARTEMENT  # noqa: F401  (used by services)

# P6: sessions held overseas are posted to the competent DEETS, one per DROM (département code).
DEETS_ADDRESSES: dict[str, dict] = {
    "971": {"addressee": "DEETS de la Guadeloupe — Service certification",
            "lines": ["Immeuble Le Pérrinon", "Boulevard du Général de Gaulle"],
            "code_postal": "97100", "commune_label": "Basse-Terre", "country": "FRANCE"},
    "972": {"addressee": "DEETS de la Martinique — Service certification",
            "lines": ["Immeuble Cascades 3", "Rue du Pavillon"],
            "code_postal": "97200", "commune_label": "Fort-de-France", "country": "FRANCE"},
    "973": {"addressee": "DEETS de la Guyane — Service certification",
            "lines": ["Cité administrative", "Rue Schœlcher"],
            "code_postal": "97300", "commune_label": "Cayenne", "country": "FRANCE"},
    "974": {"addressee": "DEETS de La Réunion — Service certification",
            "lines": ["Cité administrative", "Rue de la Victoire"],
            "code_postal": "97400", "commune_label": "Saint-Denis", "country": "FRANCE"},
    "976": {"addressee": "DEETS de Mayotte — Service certification",
            "lines": ["Immeuble Cléo", "Rue de l'Hôpital"],
            "code_postal": "97600", "commune_label": "Mamoudzou", "country": "FRANCE"},
}

# Where documents are « Etabli à » and who signs them, per région (INSEE code). Demo names.
REGION_SEATS: dict[str, tuple[str, str]] = {
    "11": ("Paris", "Île-de-France"),
    "24": ("Orléans", "Centre-Val de Loire"),
    "27": ("Dijon", "Bourgogne-Franche-Comté"),
    "28": ("Rouen", "Normandie"),
    "32": ("Lille", "Hauts-de-France"),
    "44": ("Strasbourg", "Grand Est"),
    "52": ("Nantes", "Pays de la Loire"),
    "53": ("Rennes", "Bretagne"),
    "75": ("Bordeaux", "Nouvelle-Aquitaine"),
    "76": ("Toulouse", "Occitanie"),
    "84": ("Lyon", "Auvergne-Rhône-Alpes"),
    "93": ("Marseille", "Provence-Alpes-Côte d'Azur"),
    "94": ("Ajaccio", "Corse"),
    "01": ("Basse-Terre", "Guadeloupe"),
    "02": ("Fort-de-France", "Martinique"),
    "03": ("Cayenne", "Guyane"),
    "04": ("Saint-Denis", "La Réunion"),
    "06": ("Mamoudzou", "Mayotte"),
}
SIGNATORY = "Le responsable de région"

# Région of each DROM département (for a session whose site copy has not arrived yet).
DROM_REGIONS = {dep: region for dep, region in REGION_OF_DEPARTEMENT.items() if region in OVERSEAS_REGIONS}


def region_seat(region: str | None) -> tuple[str, str]:
    return REGION_SEATS.get(region or "", ("Paris", "Île-de-France"))


def departement_of_commune(commune_code: str) -> str:
    """INSEE commune code → département: 97x for overseas, 2A/2B for Corsica, else the first two characters."""
    return commune_code[:3] if commune_code.startswith("97") else commune_code[:2]
