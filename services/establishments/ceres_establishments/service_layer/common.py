"""Helpers shared by the use cases: clock, communes, snapshots for the audit, event payloads."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from ceres_shared.communes import Commune, Referential, normalise
from ceres_shared.errors import ApiError

from ..models import Agrement, Centre, Site


def now() -> datetime:
    return datetime.now(timezone.utc)


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "Certaines données sont invalides.", errors={field: [message]})


def locate(commune_code: str, code_postal: str | None = None, *, field: str = "commune_code") -> Commune:
    """E4: the commune (current) decides département, région and zone; the postcode must be one of it."""
    commune = Referential.load().get(commune_code)
    if commune is None:
        raise invalid(field, f"Commune inconnue du référentiel officiel : {commune_code}.")
    if code_postal and commune.postcodes and code_postal not in commune.postcodes:
        raise invalid("code_postal", f"Le code postal {code_postal} n'est pas celui de {commune.name}.")
    return commune


_WORD = re.compile(r"[a-z0-9]+")


def search_words(text: str) -> list[str]:
    """E6: the words of a name as the search sees them — lower case, no accents, letters and digits only (so that
    PostgreSQL's full-text parser and SQLite's LIKE cut the same words)."""
    return _WORD.findall(normalise(text or ""))


def search_text(*parts: str | None) -> str:
    return " ".join(search_words(" ".join(filter(None, parts))))


def centre_search_text(c: Centre) -> str:
    return search_text(c.raison_sociale, c.commune_label, c.code_postal)


def site_search_text(s: Site) -> str:
    return search_text(s.name, s.commune_label, s.code_postal)


CENTRE_FIELDS = ("siret", "siren", "raison_sociale", "adresse", "code_postal", "commune_code", "commune_label",
                 "departement", "region", "type_centre", "reseau", "representant", "commentaires")
SITE_FIELDS = ("centre_id", "name", "adresse", "code_postal", "commune_code", "commune_label", "departement",
               "region", "zone", "representant", "siret", "closed_at")


def snapshot(obj, fields) -> dict:
    return {f: getattr(obj, f) for f in fields}


def centre_payload(c: Centre) -> dict:
    return {"centre_id": c.id, "siret": c.siret, "siren": c.siren, "raison_sociale": c.raison_sociale,
            "adresse": c.adresse, "code_postal": c.code_postal, "commune_code": c.commune_code,
            "commune_label": c.commune_label, "type_centre": c.type_centre}


def site_payload(s: Site) -> dict:
    return {"site_id": s.id, "centre_id": s.centre_id, "name": s.name, "adresse": s.adresse,
            "code_postal": s.code_postal, "commune_code": s.commune_code, "commune_label": s.commune_label,
            "departement": s.departement, "region": s.region, "zone": s.zone,
            "closed_at": s.closed_at.isoformat() if s.closed_at else None}


def agrement_payload(a: Agrement) -> dict:
    return {"agrement_id": a.id, "site_id": a.site_id, "centre_id": a.site.centre_id, "titre_code": a.titre_code,
            "titre_version": a.titre_version.isoformat(), "status": a.status,
            "valid_from": a.valid_from.isoformat() if a.valid_from else None,
            "valid_until": a.valid_until.isoformat() if a.valid_until else None}
