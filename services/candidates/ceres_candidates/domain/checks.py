"""C5: the checks run when a record is validated, each answered on its field, in French."""
from __future__ import annotations

import re
from datetime import date

from ceres_shared.validation import invisible_characters

from .countries import FRANCE

MIN_AGE = 14  # youngest plausible candidate (apprentices)
MAX_AGE = 100
# Latin letters with French and common European accents, spaces, hyphens, apostrophes.
_NAME = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ÿŒœÆæ' ’-]+$")
_LETTER = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿŒœÆæ]")


def birth_date_problem(birth_date: date | None, today: date | None = None) -> str | None:
    """C5: an impossible or incoherent birth year."""
    if birth_date is None:
        return "La date de naissance est obligatoire."
    today = today or date.today()
    if birth_date > today:
        return "Date de naissance impossible : elle est dans le futur."
    age = today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))
    if age < MIN_AGE:
        return f"Année de naissance incohérente : le candidat aurait {age} ans (au moins {MIN_AGE} ans attendus)."
    if age > MAX_AGE:
        return f"Année de naissance incohérente : le candidat aurait {age} ans."
    return None


def name_problem(value: str | None, label: str, *, required: bool) -> str | None:
    """C5: characters not allowed in names (digits, symbols), as in « MARIACH1 »."""
    if not value or not value.strip():
        return f"{label} est obligatoire." if required else None
    if invisible_characters(value):  # right-to-left overrides, zero-width characters: not shown « like this »
        return f"{label} contient des caractères invisibles ou de contrôle non autorisés."
    bad = sorted({c for c in value if not _NAME.match(c)})
    if bad:
        shown = " ".join(f"« {c} »" for c in bad)
        return f"{label} contient des caractères non autorisés : {shown}."
    if not _LETTER.search(value):
        return f"{label} doit contenir au moins une lettre."
    if re.search(r"--|''|  ", value):
        return f"{label} contient des séparateurs répétés."
    return None


def validation_problems(record: dict, today: date | None = None) -> dict[str, list[str]]:
    """Every problem that keeps a record from being validated (C4/C5), by field."""
    problems: dict[str, list[str]] = {}

    def add(field: str, message: str | None) -> None:
        if message:
            problems.setdefault(field, []).append(message)

    add("birth_date", birth_date_problem(record.get("birth_date"), today))
    add("nom_naissance", name_problem(record.get("nom_naissance"), "Le nom de naissance", required=True))
    add("nom_usage", name_problem(record.get("nom_usage"), "Le nom d'usage", required=False))
    prenoms = record.get("prenoms") or []
    if not prenoms:
        add("prenoms", "Au moins un prénom est obligatoire.")
    for i, prenom in enumerate(prenoms, start=1):
        add("prenoms", name_problem(prenom, f"Le prénom n° {i}", required=True))
    if not record.get("birth_country_code"):
        add("birth_country_code", "Le pays de naissance est obligatoire.")
    elif record["birth_country_code"] == FRANCE and not record.get("birth_commune_code"):
        add("birth_commune_code", "La commune de naissance est obligatoire pour une personne née en France.")
    if not record.get("address_lines") or not record.get("address_code_postal"):
        # C2 / P6: diplomas are posted to the candidate.
        add("address", "L'adresse postale est obligatoire pour valider le dossier.")
    return problems
