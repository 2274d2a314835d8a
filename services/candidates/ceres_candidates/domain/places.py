"""Birth place and postal address against the communes referential (C3) and INSEE's country list.

The referential is `ceres_shared.communes.Referential`; a runtime may carry its own in `runtime.communes`
(tests load INSEE's excerpt), otherwise the platform's one is loaded.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from .countries import FRANCE, country


class CommuneLike(Protocol):
    code: str
    name: str
    departement: str
    region: str | None
    postcodes: tuple[str, ...]


class ReferentialLike(Protocol):
    def get(self, code: str, on: date | None = None) -> CommuneLike | None: ...


@dataclass(frozen=True)
class BirthPlace:
    country_code: str
    country_label: str
    commune_code: str | None
    commune_label: str | None
    departement: str | None


@dataclass(frozen=True)
class Address:
    lines: list[str]
    code_postal: str
    commune_code: str | None
    commune_label: str
    country: str
    departement: str | None
    region: str | None


def _fr_date(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def resolve_birth_place(ref: ReferentialLike, birth_date: date, country_code: str | None,
                        commune_code: str | None) -> tuple[BirthPlace | None, dict[str, list[str]]]:
    """C3: the commune must exist in the referential *on the birth date* (a commune since merged or renamed is
    accepted, with its name of the time); born abroad, a country of INSEE's list and no commune."""
    errors: dict[str, list[str]] = {}
    code = country_code or FRANCE
    found = country(code)
    if found is None:
        return None, {"birth_country_code": [f"Pays inconnu : « {code} » n'est pas un code pays INSEE."]}
    if code != FRANCE:
        if commune_code:
            errors["birth_commune_code"] = ["Une commune de naissance ne se saisit que pour une personne née en France."]
            return None, errors
        return BirthPlace(code, found.label, None, None, None), errors
    if not commune_code:  # allowed in a draft; validation requires it (C5)
        return BirthPlace(code, found.label, None, None, None), errors
    commune = ref.get(commune_code, on=birth_date)
    if commune is None:
        errors["birth_commune_code"] = [
            f"Aucune commune de code « {commune_code} » n'existait le {_fr_date(birth_date)} "
            "dans le référentiel des communes."
        ]
        return None, errors
    return BirthPlace(code, found.label, commune.code, commune.name, commune.departement), errors


def resolve_address(ref: ReferentialLike, raw: dict | None) -> tuple[Address | None, dict[str, list[str]]]:
    """A postal address in France names a current commune whose postcodes include the one given; abroad, the
    town is free text."""
    if not raw:
        return None, {}
    lines = [line.strip() for line in raw.get("lines") or [] if line and line.strip()]
    code_postal = (raw.get("code_postal") or "").strip()
    country_label = (raw.get("country") or "FRANCE").strip().upper()
    errors: dict[str, list[str]] = {}
    if not lines:
        errors["lines"] = ["Au moins une ligne d'adresse est obligatoire."]
    if not code_postal:
        errors["code_postal"] = ["Le code postal est obligatoire."]
    if country_label != "FRANCE":
        label = (raw.get("commune_label") or "").strip()
        if not label:
            errors["commune_label"] = ["La localité est obligatoire pour une adresse à l'étranger."]
        if errors:
            return None, {"address": errors}
        return Address(lines, code_postal, None, label, country_label, None, None), {}
    commune_code = raw.get("commune_code")
    if not commune_code:
        errors["commune_code"] = ["La commune est obligatoire pour une adresse en France."]
        return None, {"address": errors}
    commune = ref.get(commune_code)
    if commune is None:
        errors["commune_code"] = [f"La commune « {commune_code} » n'existe pas (ou plus) dans le référentiel."]
    elif code_postal and commune.postcodes and code_postal not in commune.postcodes:
        errors["code_postal"] = [
            f"Le code postal {code_postal} ne correspond pas à {commune.name} "
            f"({', '.join(commune.postcodes)})."
        ]
    if errors:
        return None, {"address": errors}
    return Address(lines, code_postal, commune.code, commune.name, "FRANCE", commune.departement, commune.region), {}
