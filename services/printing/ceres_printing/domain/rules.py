"""Printing rules, each where it is enforced once (ids from docs/domain.md)."""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta

from .reference import DEETS_ADDRESSES

# P1: the documents of each decision, in the order the agent previews them.
DOCUMENTS_BY_DECISION: dict[str, tuple[str, ...]] = {
    "titre": ("diplome", "lettre_diplome"),
    "partiel": ("livret", "lettre_livret"),
    "ajourne": ("notification_echec",),
    "absent": (),
}
DOCUMENT_LABELS = {
    "diplome": "Diplôme",
    "lettre_diplome": "Lettre d'accompagnement du diplôme",
    "livret": "Livret de certification",
    "lettre_livret": "Lettre d'accompagnement du livret",
    "notification_echec": "Notification d'échec",
}
_PREFIX = {"diplome": "D", "lettre_diplome": "C", "livret": "L", "lettre_livret": "C", "notification_echec": "N"}
# No 0/O/1/I: numbers are read aloud and typed by employers (B1).
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

DUPLICATA_DELAY = timedelta(days=7)  # P5


def new_document_number(kind: str, year: int) -> str:
    """P8: unique number, random so that nothing can be enumerated (B1): « D2022-7KQ4-M9XZ »."""
    body = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{_PREFIX[kind]}{year}-{body[:4]}-{body[4:]}"


# P8: the number CERES gives (« D2022-7KQ4-M9XZ »); an original number of a pre-CERES diploma: letters, digits and
# single separators (- / .), as printed on the parchment — a slash or a dot is kept in the verification URL (B1).
CERES_NUMBER = re.compile(rf"[{''.join(sorted(set(_PREFIX.values())))}]\d{{4}}-[{_ALPHABET}]{{4}}-[{_ALPHABET}]{{4}}")
ORIGINAL_NUMBER = re.compile(r"[A-Z0-9]+(?:[-/.][A-Z0-9]+)*")


def normalize_original_number(raw: str) -> str:
    """P8: the original number of a pre-CERES diploma, kept as printed (only case and surrounding spaces ignored);
    a number CERES could have given, or one of another shape, is refused."""
    number = raw.strip().upper()
    if not 4 <= len(number) <= 24 or not ORIGINAL_NUMBER.fullmatch(number) or not any(c.isdigit() for c in number):
        raise RuleViolation("Numéro d'origine invalide : de 4 à 24 caractères, lettres et chiffres, séparés au "
                            "besoin par un tiret, une barre oblique ou un point, avec au moins un chiffre.",
                            "bad_original_number")
    if CERES_NUMBER.fullmatch(number):
        raise RuleViolation("Ce numéro a la forme des numéros attribués par CERES : un document émis par CERES se "
                            "réimprime par un duplicata (P5).", "ceres_number")
    return number


def check_original_date(issued_on: date, *, titre_version: date, today: date) -> None:
    """P8: the original diploma was issued under its titre's arrêté, and in the past."""
    if issued_on > today:
        raise RuleViolation("La date du diplôme d'origine ne peut pas être dans le futur.", "future_date")
    if issued_on < titre_version:
        raise RuleViolation(f"La date du diplôme d'origine précède l'arrêté du titre "
                            f"({titre_version.strftime('%d/%m/%Y')}).", "before_arrete")


class RuleViolation(Exception):
    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def check_print_request(kind: str, *, has_documents: bool, verified_at: datetime | None,
                        last_request_at: datetime | None, now: datetime) -> None:
    """P3: verify first; P4/P5: one initial request, then duplicata only 7 days after the last request and after
    verifying again."""
    if not has_documents:
        raise RuleViolation("Ce candidat n'a aucun document à imprimer (absent).", "no_documents")
    if kind == "initial":
        if last_request_at is not None:
            raise RuleViolation("La demande d'impression initiale a déjà été transmise ; demandez un duplicata.",
                                "already_requested")
        if verified_at is None:
            raise RuleViolation("Cochez d'abord « Données vérifiées et conformes ».", "not_verified")
        return
    if last_request_at is None:
        raise RuleViolation("Aucune demande initiale : envoyez d'abord pour impression.", "no_initial_request")
    allowed_from = last_request_at + DUPLICATA_DELAY
    if now < allowed_from:
        raise RuleViolation(
            f"Un duplicata ne peut être demandé que 7 jours après la dernière demande, soit à partir du "
            f"{allowed_from.strftime('%d/%m/%Y à %H:%M')}.", "duplicata_too_early")
    if verified_at is None or verified_at <= last_request_at:
        raise RuleViolation("Vérifiez à nouveau les données (« Données vérifiées et conformes ») avant de "
                            "demander un duplicata.", "not_verified_again")


def route(zone: str | None, departement: str) -> tuple[str, dict | None]:
    """P6: mainland → the candidate; DROM-COM → the competent DEETS (when we know its address)."""
    if zone in ("drom", "com") or departement.startswith("97"):
        deets = DEETS_ADDRESSES.get(departement)
        if deets is not None:
            return "deets", deets
    return "candidat", None


# B3: the fates the Afpa reports, in the order they happen; a report never moves a document backwards.
STATUS_ORDER = {"queued": 0, "requested": 1, "printed": 2, "posted": 3, "pnd": 4, "delivered": 4}
AFPA_STATUSES = ("printed", "posted", "pnd", "delivered")
STATUS_LABELS = {"requested": "demandé", "printed": "imprimé", "posted": "posté", "pnd": "pli non distribuable",
                 "delivered": "distribué"}


def check_status_change(current: str, new: str) -> bool:
    """True when `new` moves the document on; False for a repeat or a late report of an earlier step (the Afpa
    may retry or deliver out of order: idempotent). PND and delivered contradict each other: refused."""
    if new == current or STATUS_ORDER[new] < STATUS_ORDER[current]:
        return False
    if STATUS_ORDER[new] == STATUS_ORDER[current]:
        raise RuleViolation(f"Ce pli est déjà signalé « {STATUS_LABELS[current]} » : statut "
                            f"« {STATUS_LABELS[new]} » refusé.", "final_status")
    return True
