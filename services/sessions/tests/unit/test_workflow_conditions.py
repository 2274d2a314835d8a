"""The session workflow table (S4–S9) checked both ways, with no server: each action is allowed exactly when all
its conditions hold, and refused (409, its rule id as code, its French reason) as soon as any single one fails."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ceres_shared.auth import Principal
from ceres_sessions.domain import rules
from ceres_sessions.domain.workflow import WORKFLOW, Facts, available_actions, decide

DEP, REGION, SIRET = "01", "84", "12345678901234"
DAY = timedelta(days=1)
START, END = date(2030, 6, 1), date(2030, 6, 3)

# One caller of each kind, inside the session's territory (I4).
CALLERS = {
    "centre": Principal("c", "centre", sirets=frozenset({SIRET})),
    "gestionnaire": Principal("g", "gestionnaire", sirets=frozenset({SIRET})),
    "ud": Principal("u", "ud", departements=frozenset({DEP})),
    "deets": Principal("d", "deets", departements=frozenset({DEP})),
    "admin": Principal("a", "admin", national=True),
    "service": Principal("s", "service", national=True),
}

# Facts under which every condition of the action holds.
BASE = dict(departement=DEP, region=REGION, centre_siret=SIRET, starts_on=START, ends_on=END,
            today=date(2030, 1, 1), reason="Intempéries")
PER_ACTION = {
    "modifier_dates": dict(new_starts_on=date(2030, 5, 1), new_ends_on=date(2030, 5, 2)),
    "saisir_date_fin_reelle": dict(today=date(2030, 6, 5), real_end_date=END),
    "saisir_resultats": dict(today=date(2030, 6, 5), real_end_date=END),
    "reporter": dict(new_starts_on=date(2030, 7, 1), new_ends_on=date(2030, 7, 2)),
    "deplacer_date_fin": dict(new_ends_on=date(2030, 6, 10)),
}


def good_facts(action: str) -> Facts:
    status = sorted(WORKFLOW[action].from_statuses)[0]
    return Facts(status=status, **{**BASE, **PER_ACTION.get(action, {})})


def caller(action: str) -> Principal:
    return CALLERS[sorted(WORKFLOW[action].roles)[0]]


# Each condition (by its check) -> ways to make it fail alone: (facts changes, the French reason).
BREAKS = {
    "_dates_in_order": [(lambda f: dict(new_ends_on=(f.new_starts_on or f.starts_on) - DAY),
                         "La date de fin de session ne peut pas précéder la date de début.")],
    "_dte_in_time": [(lambda f: dict(today=date(2030, 3, 2)),
                      "La demande de DTE doit être faite au moins 3 mois avant le début de la session "
                      "(au plus tard le 01/03/2030).")],
    "_convocations_in_time": [(lambda f: dict(today=date(2030, 5, 2)),
                               "Les candidats doivent être convoqués au moins 1 mois avant le début de la session "
                               "(au plus tard le 01/05/2030).")],
    "_not_started": [(lambda f: dict(today=f.starts_on),
                      "La session a déjà commencé : elle ne peut plus être reportée.")],
    "_postponed_not_in_past": [(lambda f: dict(new_starts_on=f.today),
                                "La nouvelle date de début doit être postérieure à aujourd'hui.")],
    "_new_start_not_past": [(lambda f: dict(new_starts_on=f.today - DAY),
                             "La nouvelle date de début ne peut pas être passée.")],
    "_real_end_plausible": [
        (lambda f: dict(real_end_date=None), "La date réelle de fin de session est obligatoire."),
        (lambda f: dict(real_end_date=f.starts_on - DAY),
         "La date réelle de fin ne peut pas précéder la date de début de la session."),
        (lambda f: dict(real_end_date=f.today + DAY), "La date réelle de fin ne peut pas être dans le futur."),
    ],
    "_real_end_entered": [(lambda f: dict(real_end_date=None),
                           "Saisissez la date réelle de fin de session avant de saisir les résultats.")],
    "_jury_complete": [(lambda f: dict(jury_problems=lambda: ["Le jury doit compter au moins deux jurés.",
                                                              "M. MARTIN n'est pas habilité pour ce titre."]),
                        "Le jury doit compter au moins deux jurés. M. MARTIN n'est pas habilité pour ce titre.")],
    "_all_decided": [(lambda f: dict(undecided_candidates=2), "Il manque la décision du jury pour 2 candidat(s).")],
    "_reason_given": [(lambda f: dict(reason=None), "Le motif est obligatoire."),
                      (lambda f: dict(reason="  \t "), "Le motif est obligatoire.")],
}

CASES = [(action, i, j) for action, entry in sorted(WORKFLOW.items())
         for i, condition in enumerate(entry.conditions) for j in range(len(BREAKS[condition.check.__name__]))]


def test_every_condition_of_the_table_has_a_way_to_fail_here():
    names = {c.check.__name__ for entry in WORKFLOW.values() for c in entry.conditions}
    assert names == set(BREAKS)
    assert len(CASES) >= 16


@pytest.mark.parametrize("action", sorted(WORKFLOW))
def test_allowed_when_every_condition_holds(action):
    facts = good_facts(action)
    for condition in WORKFLOW[action].conditions:
        assert condition.check(facts) is None, (action, condition.check.__name__)
    decision = decide(action, caller(action), facts)
    assert decision.allowed and decision.status == 200 and decision.reason is None and decision.waived == ()
    assert action in available_actions(caller(action), facts)


@pytest.mark.parametrize("action,index,way", CASES)
def test_refused_with_its_reason_when_one_condition_fails(action, index, way):
    entry = WORKFLOW[action]
    condition = entry.conditions[index]
    change, reason = BREAKS[condition.check.__name__][way]
    base = good_facts(action)
    facts = replace(base, **change(base))
    others = [c for c in entry.conditions if c.check is not condition.check]
    assert all(c.check(facts) is None for c in others), "the change must break this condition only"
    decision = decide(action, caller(action), facts)
    if condition.waived_by_relaxation:  # S4: without a relaxation period the deadline holds
        assert decision.waived == ()
    assert not decision.allowed
    assert (decision.status, decision.code) == (409, condition.rule)
    assert decision.reason == f"Impossible de {entry.label} : {reason}"
    assert action not in available_actions(caller(action), facts)


@pytest.mark.parametrize("action,index,way", [c for c in CASES if WORKFLOW[c[0]].conditions[c[1]].waived_by_relaxation])
def test_S4_a_relaxation_period_lifts_the_deadline_and_records_it(action, index, way):
    condition = WORKFLOW[action].conditions[index]
    change, reason = BREAKS[condition.check.__name__][way]
    base = good_facts(action)
    decision = decide(action, caller(action), replace(base, relaxation_id=7, **change(base)))
    assert decision.allowed and decision.status == 200
    assert decision.waived == (reason,)


def test_S4_only_the_deadlines_are_waived():
    waivable = {(name, c.check.__name__) for name, entry in WORKFLOW.items() for c in entry.conditions
                if c.waived_by_relaxation}
    assert waivable == {("demander_dte", "_dte_in_time"), ("envoyer_convocations", "_convocations_in_time")}
    base = good_facts("reporter")  # a relaxation period does not let the UD postpone a started session
    decision = decide("reporter", caller("reporter"), replace(base, relaxation_id=7, today=START))
    assert not decision.allowed and decision.reason.endswith("elle ne peut plus être reportée.")


def test_the_other_refusals_in_french():
    facts = good_facts("demander_dte")
    decision = decide("demander_dte", CALLERS["ud"], facts)
    assert (decision.status, decision.code, decision.reason) == (
        403, "role", "Votre profil (UD) ne permet pas de demander le DTE.")
    decision = decide("valider", CALLERS["ud"], facts)  # the session is still being prepared
    assert (decision.status, decision.code, decision.reason) == (
        409, "status", "Impossible de valider la session : la session est « en préparation ».")
    stranger = Principal("c2", "centre", sirets=frozenset({"99999999999999"}))
    decision = decide("demander_dte", stranger, facts)
    assert (decision.status, decision.code, decision.reason) == (404, "out_of_scope", "Session introuvable.")


# The rules as the catalogue states them, written again from docs/domain.md (not from the table's functions).
def _spec_problems(action: str, f: Facts) -> list[tuple[str, bool]]:
    """(rule, waivable) of each condition of the action that does not hold, in the table's order."""
    start, end = f.new_starts_on or f.starts_on, f.new_ends_on or f.ends_on
    holds = {
        "_dates_in_order": end >= start,
        "_dte_in_time": f.today <= rules.add_months(f.starts_on, -3),
        "_convocations_in_time": f.today <= rules.add_months(f.starts_on, -1),
        "_not_started": f.today < f.starts_on,
        "_postponed_not_in_past": f.new_starts_on is None or f.new_starts_on > f.today,
        "_new_start_not_past": f.new_starts_on in (None, f.starts_on) or f.new_starts_on >= f.today,
        "_real_end_plausible": f.real_end_date is not None and f.starts_on <= f.real_end_date <= f.today,
        "_real_end_entered": f.real_end_date is not None,
        "_jury_complete": not f.jury_problems(),
        "_all_decided": f.undecided_candidates == 0,
        "_reason_given": bool((f.reason or "").strip()),
    }
    return [(c.rule, c.waived_by_relaxation) for c in WORKFLOW[action].conditions if not holds[c.check.__name__]]


DAYS = st.dates(min_value=date(2029, 1, 1), max_value=date(2031, 12, 31))


@settings(max_examples=600, deadline=None)
@given(action=st.sampled_from(sorted(WORKFLOW)), starts_on=DAYS, length=st.integers(0, 5), today=DAYS,
       new_starts_on=st.none() | DAYS, new_ends_on=st.none() | DAYS, real_end_date=st.none() | DAYS,
       reason=st.sampled_from([None, "", "  ", "Report demandé par le centre"]), undecided=st.integers(0, 3),
       jury=st.sampled_from([(), ("Le jury doit compter au moins deux jurés.",)]), relaxation=st.booleans())
def test_allowed_exactly_when_all_conditions_hold(action, starts_on, length, today, new_starts_on, new_ends_on,
                                                  real_end_date, reason, undecided, jury, relaxation):
    facts = Facts(status=sorted(WORKFLOW[action].from_statuses)[0], departement=DEP, region=REGION,
                  centre_siret=SIRET, starts_on=starts_on, ends_on=starts_on + length * DAY, today=today,
                  new_starts_on=new_starts_on, new_ends_on=new_ends_on, real_end_date=real_end_date, reason=reason,
                  undecided_candidates=undecided, jury_problems=lambda: list(jury),
                  relaxation_id=1 if relaxation else None)
    failing = [(rule, waivable) for rule, waivable in _spec_problems(action, facts)
               if not (waivable and relaxation)]
    decision = decide(action, caller(action), facts)
    assert decision.allowed == (not failing)
    if failing:
        assert (decision.status, decision.code) == (409, failing[0][0])
        assert decision.reason.startswith(f"Impossible de {WORKFLOW[action].label} : ")
