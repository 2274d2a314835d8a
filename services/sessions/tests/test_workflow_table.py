"""The workflow table's properties over role × territory × status × action (Hypothesis), without a database."""
from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from ceres_shared.auth import ALL_ROLES, Principal
from ceres_sessions.domain.workflow import CENTRE, STATUSES, WORKFLOW, Facts, available_actions, decide

SESSION_DEP, SESSION_REGION, SESSION_SIRET = "01", "84", "12345678901234"


def principal(role: str, inside: bool) -> Principal:
    if role in CENTRE:
        return Principal("u", role, sirets=frozenset({SESSION_SIRET if inside else "99999999999999"}))
    if role in ("dgefp", "admin"):
        return Principal("u", role, national=True)  # national roles are inside everywhere
    if role == "dreets":
        return Principal("u", role, regions=frozenset({SESSION_REGION if inside else "11"}))
    return Principal("u", role, departements=frozenset({SESSION_DEP if inside else "75"}))


def facts(status: str, **kw) -> Facts:
    base = dict(status=status, departement=SESSION_DEP, region=SESSION_REGION, centre_siret=SESSION_SIRET,
                starts_on=date(2030, 6, 1), ends_on=date(2030, 6, 3), today=date(2030, 1, 1), reason="motif",
                real_end_date=date(2030, 6, 3))
    return Facts(**{**base, **kw})


ROLES = st.sampled_from(sorted(ALL_ROLES))
ACTIONS = st.sampled_from(sorted(WORKFLOW))


@settings(max_examples=400, deadline=None)
@given(role=ROLES, action=ACTIONS, status=st.sampled_from(STATUSES))
def test_I4_an_action_outside_scope_is_always_refused(role, action, status):
    if role in ("dgefp", "admin"):
        return  # national: there is no "outside"
    decision = decide(action, principal(role, inside=False), facts(status))
    assert not decision.allowed
    assert decision.status == 404 and decision.reason == "Session introuvable."


@settings(max_examples=400, deadline=None)
@given(role=ROLES, action=ACTIONS, status=st.sampled_from(STATUSES), inside=st.booleans())
def test_allowed_exactly_when_the_table_says_so(role, action, status, inside):
    entry = WORKFLOW[action]
    decision = decide(action, principal(role, inside), facts(status))
    in_scope = inside or role in ("dgefp", "admin")
    if decision.allowed:
        assert in_scope and role in entry.roles and status in entry.from_statuses
    elif in_scope and role not in entry.roles:
        assert decision.status == 403 and decision.reason.startswith("Votre profil")
    elif in_scope and status not in entry.from_statuses:
        assert decision.status == 409
        assert decision.reason.startswith(f"Impossible de {entry.label} : la session est « ")


@settings(max_examples=200, deadline=None)
@given(action=ACTIONS, status=st.sampled_from(STATUSES))
def test_S3_terminal_statuses_only_lead_forward(action, status):
    entry = WORKFLOW[action]
    if status in ("annulee", "finalisee"):
        assert status not in entry.from_statuses  # nothing happens to a cancelled or finished session
    if entry.to_status == "validee":
        assert entry.from_statuses == {"resultats_saisis"} and entry.roles == {"ud", "deets"}  # S8


def test_S4_deadlines_refused_in_french_unless_relaxed():
    centre = principal("centre", True)
    late = facts("en_preparation", today=date(2030, 3, 2))
    refused = decide("demander_dte", centre, late)
    assert refused.status == 409
    assert refused.reason == ("Impossible de demander le DTE : La demande de DTE doit être faite au moins 3 mois "
                              "avant le début de la session (au plus tard le 01/03/2030).")
    relaxed = decide("demander_dte", centre, facts("en_preparation", today=date(2030, 3, 2), relaxation_id=1))
    assert relaxed.allowed and relaxed.waived
    assert decide("demander_dte", centre, facts("en_preparation", today=date(2030, 3, 1))).allowed
    convoc = decide("envoyer_convocations", centre, facts("demande_dte_envoyee", today=date(2030, 5, 2)))
    assert "au moins 1 mois" in convoc.reason


def test_S5_only_the_ud_postpones_and_only_before_the_start():
    ud = principal("ud", True)
    assert decide("reporter", ud, facts("convocations_envoyees", new_starts_on=date(2030, 9, 1),
                                        new_ends_on=date(2030, 9, 2))).allowed
    started = decide("reporter", ud, facts("convocations_envoyees", today=date(2030, 6, 1)))
    assert started.reason.endswith("La session a déjà commencé : elle ne peut plus être reportée.")
    assert decide("reporter", principal("centre", True), facts("en_preparation")).status == 403
    assert decide("modifier_dates", principal("centre", True), facts("demande_dte_envoyee")).status == 409
    assert "modifier_dates" in available_actions(principal("centre", True), facts("en_preparation"))


def test_S6_S7_S8_results_conditions():
    centre = principal("centre", True)
    no_end = decide("saisir_resultats", centre, facts("convocations_envoyees", real_end_date=None))
    assert no_end.reason.endswith("Saisissez la date réelle de fin de session avant de saisir les résultats.")
    no_jury = decide("saisir_resultats", centre, facts("convocations_envoyees",
                                                       jury_problems=lambda: ["Le jury doit compter 2 jurés."]))
    assert no_jury.status == 409 and no_jury.code == "S7"
    undecided = decide("saisir_resultats", centre, facts("convocations_envoyees", undecided_candidates=2))
    assert undecided.reason.endswith("Il manque la décision du jury pour 2 candidat(s).")
