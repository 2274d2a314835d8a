"""Jinja filters that turn the services' values into what French users read: « 12 mars 2024 » rather than an ISO
date, « 3 803 » rather than 3803, « retiré » rather than a state code. Installed on the app by `register`."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask

from ceres_shared.documents.french import date_fr, number_fr

from .roles import ROLE_LABELS

PARIS = ZoneInfo("Europe/Paris")

# E3: the centre types the establishments service accepts (it validates them again), as users read them.
TYPES_CENTRE = (("CFA", "Centre de formation d'apprentis (CFA)"), ("CRP", "Centre de rééducation professionnelle"),
                ("AFPA", "Afpa"), ("GRETA", "GRETA"), ("LP", "Lycée professionnel"), ("ASSOCIATION", "Association"),
                ("CHAMBRE_CONSULAIRE", "Chambre consulaire"), ("AUTRE", "Autre"))
TYPE_CENTRE_LABELS = dict(TYPES_CENTRE)
# A candidate's state in a session (sessions service).
CANDIDATE_STATES = {"inscrit": "inscrit", "absent": "absent", "retire": "retiré"}


def long_date(value) -> str:
    """ISO date or date-time → « 12 mars 2024 » (the Paris day of a moment); « — » when there is none."""
    if not value:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo:
        value = value.astimezone(PARIS)
    return date_fr(value)


def count(value) -> str:
    """« 3 803 »: thousands apart with a narrow no-break space, as French writes figures."""
    return number_fr(value if value is not None else 0)


def labelled(labels: dict[str, str]):
    """A filter showing a code's French label, or the code itself when no label is known (never an empty cell)."""
    def show(code) -> str:
        return labels.get(code, code) if code else "—"
    return show


FILTERS = {
    "date_longue": long_date,
    "nombre": count,
    "type_centre": labelled(TYPE_CENTRE_LABELS),
    "etat_candidat": labelled(CANDIDATE_STATES),
    "role": labelled({**ROLE_LABELS, "service": "traitement automatique"}),
}


def install(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
