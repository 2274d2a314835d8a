"""The sessions' date rules (S1, S2, S4, S7), with no server."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from ceres_sessions.domain import controls, rules
from ceres_sessions.domain.workflow import OPEN, STATUS_LABELS, STATUSES, WARNING_PENDING


@pytest.mark.parametrize("day,months,expected", [
    (date(2024, 1, 31), 1, date(2024, 2, 29)),   # leap year: the month's last day
    (date(2023, 1, 31), 1, date(2023, 2, 28)),
    (date(2024, 5, 31), -3, date(2024, 2, 29)),
    (date(2024, 11, 15), 2, date(2025, 1, 15)),  # over the year's end
    (date(2025, 1, 15), -2, date(2024, 11, 15)),
    (date(2025, 6, 30), 24, date(2027, 6, 30)),
])
def test_add_months_keeps_the_day_or_takes_the_months_last(day, months, expected):
    assert rules.add_months(day, months) == expected


def test_S2_the_default_time_is_eight_in_paris_summer_and_winter():
    summer, winter = rules.at_eight(date(2024, 7, 1)), rules.at_eight(date(2024, 1, 15))
    assert (summer.hour, summer.minute) == (8, 0) and (winter.hour, winter.minute) == (8, 0)
    assert summer.astimezone(timezone.utc) == datetime(2024, 7, 1, 6, 0, tzinfo=timezone.utc)
    assert winter.astimezone(timezone.utc) == datetime(2024, 1, 15, 7, 0, tzinfo=timezone.utc)


def test_the_day_is_the_paris_day():
    assert rules.paris_day(datetime(2024, 12, 31, 23, 30, tzinfo=timezone.utc)) == date(2025, 1, 1)
    assert rules.paris_day(datetime(2024, 6, 30, 21, 59, tzinfo=timezone.utc)) == date(2024, 6, 30)
    assert rules.paris_day(datetime(2024, 6, 30, 22, 0, tzinfo=timezone.utc)) == date(2024, 7, 1)


def test_S4_deadlines_three_months_and_one_month_before_the_start():
    assert rules.dte_deadline(date(2024, 6, 1)) == date(2024, 3, 1)
    assert rules.dte_deadline(date(2024, 5, 31)) == date(2024, 2, 29)
    assert rules.convocation_deadline(date(2024, 6, 1)) == date(2024, 5, 1)
    assert rules.convocation_deadline(date(2024, 3, 31)) == date(2024, 2, 29)


@pytest.mark.parametrize("type_centre,months", [
    ("CFA", 24), ("CRP", 24), ("cfa", 24), ("AFPA", 12), ("GRETA", 12), (None, 12), ("", 12)])
def test_S1_prolongation_24_months_for_cfa_and_crp_else_12(type_centre, months):
    assert rules.prolongation_months(type_centre) == months


def test_S1_last_session_day():
    end = date(2025, 6, 30)
    assert rules.last_session_day(None, "CFA") is None  # a titre without an end
    assert rules.last_session_day(end, "AFPA") == date(2026, 6, 30)
    assert rules.last_session_day(end, "CRP") == date(2027, 6, 30)
    # S11: a prolongation the UD accepted moves it later, never earlier.
    assert rules.last_session_day(end, None, date(2026, 12, 31)) == date(2026, 12, 31)
    assert rules.last_session_day(end, None, date(2026, 1, 1)) == date(2026, 6, 30)


def test_S7_a_habilitation_up_to_the_titres_end_lasts_24_more_months():
    end = date(2025, 6, 30)
    assert rules.habilitation_effective_until(end, end) == date(2027, 6, 30)
    assert rules.habilitation_effective_until(date(2026, 1, 1), end) == date(2027, 6, 30)  # beyond it: same
    assert rules.habilitation_effective_until(end - timedelta(days=1), end) == date(2025, 6, 29)  # not extended
    assert rules.habilitation_effective_until(date(2025, 3, 1), None) == date(2025, 3, 1)


def test_a_period_covers_its_first_and_last_day_only():
    period = rules.Period(date(2024, 3, 1), date(2024, 3, 31))
    assert period.covers(date(2024, 3, 1)) and period.covers(date(2024, 3, 31))
    assert not period.covers(date(2024, 2, 29)) and not period.covers(date(2024, 4, 1))


def test_S3_statuses_and_their_french_labels():
    assert STATUSES == ("en_preparation", "demande_dte_envoyee", "convocations_envoyees", "resultats_saisis",
                        "validee", "finalisee", "annulee")
    assert STATUS_LABELS["demande_dte_envoyee"] == "demande de DTE envoyée"
    assert STATUS_LABELS["resultats_saisis"] == "résultats saisis"
    assert OPEN == {"en_preparation", "demande_dte_envoyee", "convocations_envoyees"}


def test_B2_each_warning_waits_on_the_status_of_its_step():
    assert WARNING_PENDING["dte"] == {"en_preparation"}
    assert WARNING_PENDING["convocations"] == {"demande_dte_envoyee"}
    assert WARNING_PENDING["results"] == {"convocations_envoyees"}
    assert WARNING_PENDING["habilitation"] == OPEN


def test_S10_controls_vocabulary_in_french():
    assert controls.KINDS == {"sur_place": "sur place", "sur_pieces": "sur pièces"}
    assert controls.OUTCOMES["observations"] == "conforme avec observations"
    assert controls.STATUS_LABELS == {"programme": "programmé", "realise": "réalisé", "annule": "annulé"}
