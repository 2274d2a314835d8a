"""Realistic data at the scale of domain.md (20,000 centres, 40,000 sites, agréments) on real communes, for the
benchmark (and a large demo). Deterministic for a given seed; bulk inserts, no events (this is not business)."""
from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timezone

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from stdnum import luhn

from ceres_shared.communes import Referential

from .models import Agrement, Centre, Site
from .service_layer.common import search_text

KINDS = ("CFA", "CRP", "AFPA", "GRETA", "LP", "ASSOCIATION", "CHAMBRE_CONSULAIRE", "AUTRE")
FIRST = ("Institut", "Centre", "École", "Atelier", "Maison", "Académie", "Campus", "Pôle", "Espace", "Lycée")
SECOND = ("de formation", "des métiers", "professionnel", "régional", "technique", "d'apprentissage",
          "de la réussite", "des compétences", "pour l'emploi", "de l'artisanat")
THIRD = ("Horizon", "Avenir", "Saint-Joseph", "Jean Moulin", "Les Tilleuls", "Pasteur", "Émeraude", "Val de Loire",
         "Montagne", "Océan", "Arc-en-Ciel", "Sud", "Nord", "Bocage", "Vallée")


def valid_siret(rng: random.Random) -> str:
    siren8 = f"{rng.randrange(10_000_000, 99_999_999)}"
    siren = siren8 + luhn.calc_check_digit(siren8)
    body = siren + f"{rng.randrange(0, 9999):04d}"
    return body + luhn.calc_check_digit(body)


def generate(engine: Engine, centres: int = 20_000, sites: int = 40_000, seed: int = 42) -> dict:
    rng = random.Random(seed)
    ref = Referential.load()
    communes = [c for c in (ref.get(code) for code in ref.codes()) if c and c.type in ("COM", "ARM")]
    now = datetime.now(timezone.utc)
    centre_rows, site_rows, agrement_rows, sirets = [], [], [], set()
    while len(sirets) < centres:
        sirets.add(valid_siret(rng))
    ordered = sorted(sirets)
    rng.shuffle(ordered)
    for siret in ordered:
        c = rng.choice(communes)
        name = f"{rng.choice(FIRST)} {rng.choice(SECOND)} {rng.choice(THIRD)}"
        centre_rows.append(dict(
            id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"ceres:centre:{siret}")), siret=siret, siren=siret[:9],
            raison_sociale=name, adresse=f"{rng.randrange(1, 200)} rue {rng.choice(THIRD)}",
            code_postal=c.postcodes[0] if c.postcodes else None, commune_code=c.code, commune_label=c.name,
            departement=c.departement, region=c.region, type_centre=rng.choice(KINDS), version=1,
            search_text=search_text(name, c.name, c.postcodes[0] if c.postcodes else None),
            created_at=now, updated_at=now))
    for n in range(sites):
        owner = centre_rows[n % centres] if n < centres else rng.choice(centre_rows)
        c = rng.choice(communes) if rng.random() < 0.3 else ref.get(owner["commune_code"])
        name = f"{owner['raison_sociale']} — {c.name}"
        site_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"ceres:site:{owner['siret']}:{n}"))
        site_rows.append(dict(
            id=site_id, centre_id=owner["id"], name=name[:250],
            adresse=f"{rng.randrange(1, 90)} avenue {rng.choice(THIRD)}",
            code_postal=c.postcodes[0] if c.postcodes else None, commune_code=c.code, commune_label=c.name,
            departement=c.departement, region=c.region or c.departement, zone=c.zone, version=1,
            siret=owner["siret"][:9] + f"{n % 9999:04d}0" if rng.random() < 0.2 else None,
            search_text=search_text(name, c.name, c.postcodes[0] if c.postcodes else None),
            created_at=now, updated_at=now))
        if rng.random() < 0.5:
            agrement_rows.append(dict(
                id=str(uuid.uuid4()), site_id=site_id, titre_code=rng.choice(("TP-00463", "TP-00391")),
                titre_version=date(2018, 9, 20), status="accorde", valid_from=date(2023, 1, 1),
                valid_until=date(2027, 12, 31), version=1, created_at=now, updated_at=now))
    with engine.begin() as conn:
        for model, rows in ((Centre, centre_rows), (Site, site_rows), (Agrement, agrement_rows)):
            for i in range(0, len(rows), 5000):
                conn.execute(insert(model.__table__), rows[i:i + 5000])
    return {"centres": centre_rows, "sites": site_rows, "agrements": len(agrement_rows)}
