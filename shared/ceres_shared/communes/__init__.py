"""The communes referential (rule C3): current communes, communes déléguées and associées, arrondissements
municipaux with their postcodes, département, région and zone (Etalab's @etalab/decoupage-administratif), plus
the communes and names that no longer exist, with their dates (INSEE's "communes depuis 1943").

    from ceres_shared.communes import Referential
    ref = Referential.load()
    ref.get("01033")                      # Valserhône
    ref.get("01033", on=date(2000, 1, 1)) # Bellegarde-sur-Valserine
    ref.search("bellegarde", on=date(2000, 1, 1)); ref.by_postcode("01200")

Data: ``python -m ceres_shared.communes build`` (run by ``make install``) and
``python -m ceres_shared.communes import-insee v_commune_depuis_1943.csv``.
"""
from .build import CommunesBuildError, build, default_dir, import_insee
from .model import Commune, departement_of, normalise, zone_of
from .referential import CommunesMissingError, Referential

__all__ = [
    "Commune",
    "CommunesBuildError",
    "CommunesMissingError",
    "Referential",
    "build",
    "default_dir",
    "departement_of",
    "import_insee",
    "normalise",
    "zone_of",
]
