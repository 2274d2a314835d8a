"""Demo candidates (embedded mode, `flask --app ceres_candidates.wsgi seed-demo`), created through the same use
cases as the API so their events go out. Idempotent: nothing happens once the table holds candidates; on an
empty table the CERES ids are 1..n in this order, which other services' demo data may rely on."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from ceres_shared.auth import Principal

from .models import Candidate
from .service_layer import grants, records

SEEDER = Principal(subject="demo", role="admin", name="Données de démonstration", national=True)

# genre, nom, prénoms, birth date, birth commune (or None), birth country, address line, postcode, commune
PEOPLE = [
    ("M", "CHEVALIER", ["Henri"], date(1990, 3, 1), "69123", "99100", "5 rue de la République", "69002", "69123"),
    ("F", "MARTIN", ["Sophie", "Anne"], date(1985, 6, 12), "75056", "99100", "13 rue Oberkampf", "75011", "75056"),
    ("M", "PAYET", ["Jean-Marc"], date(1992, 11, 5), "97411", "99100", "8 rue de Paris", "97400", "97411"),
    ("F", "BENALI", ["Yasmina"], date(1995, 2, 20), None, "99350", "20 La Canebière", "13001", "13055"),
    ("M", "DUBOIS", ["Lucas"], date(2001, 9, 14), "33063", "99100", "4 cours de l'Intendance", "33000", "33063"),
    ("F", "LEFEBVRE", ["Camille", "Marie"], date(1998, 4, 30), "59350", "99100", "2 rue Nationale", "59000",
     "59350"),
    ("M", "NGUYEN", ["Thomas"], date(1988, 12, 1), "31555", "99100", "1 place du Capitole", "31000", "31555"),
    ("F", "ROUSSEAU", ["Élodie"], date(1979, 7, 7), "01053", "99100", "6 avenue Alsace-Lorraine", "01000", "01053"),
    ("M", "GRONDIN", ["Kévin"], date(1996, 1, 15), "97209", "99100", "3 rue Victor Hugo", "97200", "97209"),
    ("F", "DA SILVA", ["Ana"], date(1990, 10, 10), None, "99139", "30 avenue Jean Jaurès", "69007", "69123"),
]
LEFT_AS_DRAFT = {"DA SILVA"}
# The demo's centres (establishments' demo.py) have found these people with their duplicate check (C1), so they may
# enrol them (I4): the demo sessions and the centres' pages do.
DEMO_CENTRES = ("30012845100014", "41822976100014", "52231548000015", "63840117400013")


def seed(runtime) -> None:
    from ceres_shared.communes import Referential

    ref = getattr(runtime, "communes", None) or Referential.load()
    with runtime.session_factory() as session:
        if session.scalar(select(func.count()).select_from(Candidate)):
            return
        for genre, nom, prenoms, born, commune, country, line, cp, city in PEOPLE:
            c = records.create(session, runtime, ref, SEEDER, {
                "genre": genre, "nom_naissance": nom, "prenoms": prenoms, "birth_date": born,
                "birth_country_code": country, "birth_commune_code": commune,
                "address": {"lines": [line], "code_postal": cp, "commune_code": city, "country": "FRANCE"},
            })
            if nom not in LEFT_AS_DRAFT:
                records.validate(session, runtime, SEEDER, c.id)
            for siret in DEMO_CENTRES:
                grants.share(session, runtime, c.id, siret, "exact_match")
        session.commit()
