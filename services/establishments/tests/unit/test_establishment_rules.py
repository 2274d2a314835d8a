"""The establishments' rules (E1, E3, E7), with no server."""
from __future__ import annotations

from datetime import date

import pytest

from ceres_establishments.domain.rules import (
    AGREMENT_STATUSES, AGREMENT_TRANSITIONS, STATUS_LABELS, TYPES_CENTRE, agrement_period_errors, agrement_valid_on,
    siret_error,
)

LENGTH = "Le SIRET doit comporter 14 chiffres."
CHECKSUM = "Ce SIRET n'existe pas : sa clé de contrôle est fausse."


@pytest.mark.parametrize("value", ["73282932000074", "732 829 320 00074", "35600000048315"])
def test_E1_valid_sirets(value):
    # 35600000048315 fails Luhn: a site of La Poste, whose SIRETs have their own key (digits' sum a multiple of 5).
    assert siret_error(value) is None


@pytest.mark.parametrize("value,message", [
    ("73282932000075", CHECKSUM),
    ("35600000049999", CHECKSUM),  # La Poste's exception does not accept any key
    ("7328293200007", LENGTH), ("732829320000740", LENGTH), ("7328293200007A", LENGTH), ("", LENGTH), (None, LENGTH),
])
def test_E1_invalid_sirets_in_french(value, message):
    assert siret_error(value) == message


def test_E1_the_centre_de_reprise_siret_only_where_allowed():
    assert siret_error("00000000000000") == "Le SIRET 00000000000000 est réservé au centre de reprise."
    assert siret_error("00000000000000", allow_reprise=True) is None


def test_E7_a_granted_agrement_has_both_dates_in_order_within_the_titre():
    titre_end = date(2028, 9, 26)
    assert agrement_period_errors(date(2024, 1, 1), titre_end, titre_end) == {}
    assert agrement_period_errors(date(2024, 1, 1), date(2030, 1, 1), None) == {}  # a titre without an end
    assert agrement_period_errors(None, None, titre_end) == {
        "valid_from": ["La date de début de l'agrément est obligatoire."],
        "valid_until": ["La date de fin de l'agrément est obligatoire."]}
    assert agrement_period_errors(date(2024, 1, 1), date(2023, 12, 31), titre_end) == {
        "valid_until": ["La date de fin précède la date de début."]}
    assert agrement_period_errors(date(2024, 1, 1), date(2028, 9, 27), titre_end) == {
        "valid_until": ["L'agrément ne peut aller au-delà de la fin de validité du titre (26/09/2028)."]}
    assert agrement_period_errors(None, date(2028, 9, 27), titre_end) == {
        "valid_from": ["La date de début de l'agrément est obligatoire."],
        "valid_until": ["L'agrément ne peut aller au-delà de la fin de validité du titre (26/09/2028)."]}


def test_E7_valid_only_when_granted_and_on_a_day_of_its_period():
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    assert agrement_valid_on("accorde", start, end, start) and agrement_valid_on("accorde", start, end, end)
    assert not agrement_valid_on("accorde", start, end, date(2025, 1, 1))
    assert not agrement_valid_on("accorde", start, end, date(2023, 12, 31))
    for status in ("en_instruction", "refuse", "retire", "termine"):
        assert not agrement_valid_on(status, start, end, date(2024, 6, 1))
    assert not agrement_valid_on("accorde", None, end, date(2024, 6, 1))


def test_E7_the_agrement_workflow_table():
    reachable = {(action, before, after) for action, moves in AGREMENT_TRANSITIONS.items()
                 for before, after in moves.items()}
    assert reachable == {("instruct", "en_instruction", "en_instruction"), ("grant", "en_instruction", "accorde"),
                         ("refuse", "en_instruction", "refuse"), ("withdraw", "accorde", "retire"),
                         ("end", "accorde", "termine")}
    # Refused, withdrawn and ended agréments are final: no action starts from them.
    assert not {"refuse", "retire", "termine"} & {b for moves in AGREMENT_TRANSITIONS.values() for b in moves}
    assert [STATUS_LABELS[s] for s in AGREMENT_STATUSES] == [
        "en cours d'instruction", "accordé", "refusé", "retiré", "terminé"]


def test_E3_types_of_centre():
    assert TYPES_CENTRE == ("CFA", "CRP", "AFPA", "GRETA", "LP", "ASSOCIATION", "CHAMBRE_CONSULAIRE", "AUTRE")
