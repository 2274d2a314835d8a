"""Plain rules of the establishments domain (docs/domain.md, E1-E7)."""
from __future__ import annotations

from datetime import date

from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.fr import siret as stdnum_siret

from ..models import CENTRE_DE_REPRISE_SIRET

TYPES_CENTRE = ("CFA", "CRP", "AFPA", "GRETA", "LP", "ASSOCIATION", "CHAMBRE_CONSULAIRE", "AUTRE")  # E3

# E7: the workflow as one table: action -> {status before: status after}. Anything else is refused (409).
AGREMENT_STATUSES = ("en_instruction", "accorde", "refuse", "retire", "termine")
AGREMENT_TRANSITIONS: dict[str, dict[str, str]] = {
    "instruct": {"en_instruction": "en_instruction"},
    "grant": {"en_instruction": "accorde"},
    "refuse": {"en_instruction": "refuse"},
    "withdraw": {"accorde": "retire"},
    "end": {"accorde": "termine"},
}
AGREMENT_EVENTS = {"grant": "agrement.granted", "refuse": "agrement.refused", "withdraw": "agrement.withdrawn",
                   "end": "agrement.ended"}
STATUS_LABELS = {"en_instruction": "en cours d'instruction", "accorde": "accordé", "refuse": "refusé",
                 "retire": "retiré", "termine": "terminé"}
OPEN_AGREMENT_STATUSES = ("en_instruction", "accorde")


def siret_error(value: str, *, allow_reprise: bool = False) -> str | None:
    """E1: 14 digits, Luhn checksum (python-stdnum knows La Poste's exception); 00000000000000 only for the
    centre de reprise. None when valid, else the French message."""
    compact = (value or "").replace(" ", "")
    if compact == CENTRE_DE_REPRISE_SIRET and not allow_reprise:
        return "Le SIRET 00000000000000 est réservé au centre de reprise."
    try:
        stdnum_siret.validate(compact)
    except (InvalidLength, InvalidFormat):
        return "Le SIRET doit comporter 14 chiffres."
    except InvalidChecksum:
        return "Ce SIRET n'existe pas : sa clé de contrôle est fausse."
    except ValidationError:
        return "Ce SIRET est invalide."
    return None


def agrement_period_errors(valid_from: date | None, valid_until: date | None,
                           end_of_validity: date | None) -> dict[str, list[str]]:
    """E7: a granted agrément has both dates, in order, never beyond the titre's end of validity."""
    errors: dict[str, list[str]] = {}
    if valid_from is None:
        errors["valid_from"] = ["La date de début de l'agrément est obligatoire."]
    if valid_until is None:
        errors["valid_until"] = ["La date de fin de l'agrément est obligatoire."]
    if valid_from and valid_until and valid_until < valid_from:
        errors["valid_until"] = ["La date de fin précède la date de début."]
    elif valid_until and end_of_validity and valid_until > end_of_validity:
        errors["valid_until"] = [
            f"L'agrément ne peut aller au-delà de la fin de validité du titre ({end_of_validity:%d/%m/%Y})."
        ]
    return errors


def agrement_valid_on(status: str, valid_from: date | None, valid_until: date | None, on: date) -> bool:
    """What a centre sees (E7): is the agrément in force on that day."""
    return status == "accorde" and bool(valid_from and valid_until) and valid_from <= on <= valid_until
