"""The session workflow (S1–S8) as one table: for each action, the statuses it starts from, the status it leads
to, who may do it (roles, always within their scope, I4) and the conditions it needs. `decide()` reads the table;
nothing else in the service decides whether a step is allowed.

Refusals: outside the caller's scope -> 404 (a session one cannot see does not exist for them); role not allowed
-> 403; wrong status or an unmet condition -> 409 with the reason in French.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from . import rules

EN_PREPARATION = "en_preparation"
DTE_ENVOYEE = "demande_dte_envoyee"
CONVOCATIONS_ENVOYEES = "convocations_envoyees"
RESULTATS_SAISIS = "resultats_saisis"
VALIDEE = "validee"
FINALISEE = "finalisee"
ANNULEE = "annulee"

STATUS_LABELS = {  # S3, as users read them
    EN_PREPARATION: "en préparation",
    DTE_ENVOYEE: "demande de DTE envoyée",
    CONVOCATIONS_ENVOYEES: "convocations envoyées",
    RESULTATS_SAISIS: "résultats saisis",
    VALIDEE: "validée",
    FINALISEE: "finalisée",
    ANNULEE: "annulée",
}
STATUSES = tuple(STATUS_LABELS)
OPEN = frozenset({EN_PREPARATION, DTE_ENVOYEE, CONVOCATIONS_ENVOYEES})

# B2: a session's deadline warning calls for action while the session is in these statuses; once it moves on, the
# warning is resolved (removed).
WARNING_PENDING = {"dte": frozenset({EN_PREPARATION}), "convocations": frozenset({DTE_ENVOYEE}),
                   "results": frozenset({CONVOCATIONS_ENVOYEES}), "habilitation": OPEN}

CENTRE = frozenset({"centre", "gestionnaire"})
UD = frozenset({"ud", "deets"})  # DEETS: the UD of overseas départements
ADMIN = frozenset({"admin"})
ROLE_LABELS = {"centre": "centre agréé", "gestionnaire": "gestionnaire de centre", "ud": "UD", "deets": "DEETS",
               "dreets": "DREETS", "dgefp": "DGEFP", "admin": "administrateur", "afpa": "Afpa", "service": "service"}


@dataclass
class Facts:
    """What the conditions look at: the session as it is, today, and the action's input."""

    status: str
    departement: str
    region: str
    centre_siret: str | None
    starts_on: date
    ends_on: date
    today: date
    real_end_date: date | None = None
    relaxation_id: int | None = None  # the relaxation period open today, if any (S4)
    new_starts_on: date | None = None
    new_ends_on: date | None = None
    reason: str | None = None
    undecided_candidates: int = 0
    jury_problems: Callable[[], list[str]] = field(default=lambda: [])


@dataclass(frozen=True)
class Condition:
    rule: str
    check: Callable[[Facts], str | None]  # the French reason when not met
    waived_by_relaxation: bool = False  # S4: deadlines are lifted during a relaxation period


@dataclass(frozen=True)
class Action:
    label: str  # "demander le DTE": completes "Impossible de …"
    from_statuses: frozenset[str]
    roles: frozenset[str]
    to_status: str | None = None  # None: the status stays (edits, postponement)
    conditions: tuple[Condition, ...] = ()


def _fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _dates_in_order(f: Facts) -> str | None:
    start, end = f.new_starts_on or f.starts_on, f.new_ends_on or f.ends_on
    if end < start:
        return "La date de fin de session ne peut pas précéder la date de début."
    return None


def _dte_in_time(f: Facts) -> str | None:
    last = rules.dte_deadline(f.starts_on)
    if f.today > last:
        return (f"La demande de DTE doit être faite au moins 3 mois avant le début de la session "
                f"(au plus tard le {_fr(last)}).")
    return None


def _convocations_in_time(f: Facts) -> str | None:
    last = rules.convocation_deadline(f.starts_on)
    if f.today > last:
        return (f"Les candidats doivent être convoqués au moins 1 mois avant le début de la session "
                f"(au plus tard le {_fr(last)}).")
    return None


def _not_started(f: Facts) -> str | None:
    if f.today >= f.starts_on:
        return "La session a déjà commencé : elle ne peut plus être reportée."
    return None


def _postponed_not_in_past(f: Facts) -> str | None:
    if f.new_starts_on is not None and f.new_starts_on <= f.today:
        return "La nouvelle date de début doit être postérieure à aujourd'hui."
    return None


def _new_start_not_past(f: Facts) -> str | None:
    """S5 with S2: a centre moving the start date cannot move it into the past (creation refuses it too)."""
    if f.new_starts_on is not None and f.new_starts_on != f.starts_on and f.new_starts_on < f.today:
        return "La nouvelle date de début ne peut pas être passée."
    return None


def _real_end_plausible(f: Facts) -> str | None:
    day = f.real_end_date
    if day is None:
        return "La date réelle de fin de session est obligatoire."
    if day < f.starts_on:
        return "La date réelle de fin ne peut pas précéder la date de début de la session."
    if day > f.today:
        return "La date réelle de fin ne peut pas être dans le futur."
    return None


def _real_end_entered(f: Facts) -> str | None:
    if f.real_end_date is None:
        return "Saisissez la date réelle de fin de session avant de saisir les résultats."
    return None


def _jury_complete(f: Facts) -> str | None:
    problems = f.jury_problems()
    return " ".join(problems) if problems else None


def _all_decided(f: Facts) -> str | None:
    if f.undecided_candidates:
        return f"Il manque la décision du jury pour {f.undecided_candidates} candidat(s)."
    return None


def _reason_given(f: Facts) -> str | None:
    return None if (f.reason or "").strip() else "Le motif est obligatoire."


C_DATES = Condition("S5", _dates_in_order)
WORKFLOW: dict[str, Action] = {
    # S5: the centre edits the start date ("informations pratiques") only while the session is being prepared.
    "modifier_dates": Action("modifier les dates de la session", frozenset({EN_PREPARATION}), CENTRE,
                             conditions=(Condition("S5", _new_start_not_past), C_DATES)),
    # S4: DTE at least 3 months ahead, 0 candidates allowed; lifted during a relaxation period.
    "demander_dte": Action("demander le DTE", frozenset({EN_PREPARATION}), CENTRE, DTE_ENVOYEE,
                           (Condition("S4", _dte_in_time, waived_by_relaxation=True),)),
    # S4: convocations at least 1 month ahead.
    "envoyer_convocations": Action("envoyer les convocations", frozenset({DTE_ENVOYEE}), CENTRE,
                                   CONVOCATIONS_ENVOYEES,
                                   (Condition("S4", _convocations_in_time, waived_by_relaxation=True),)),
    "inscrire_candidat": Action("inscrire un candidat", OPEN, CENTRE),
    "retirer_candidat": Action("retirer un candidat", OPEN, CENTRE),
    "marquer_absent": Action("marquer un candidat absent", frozenset({CONVOCATIONS_ENVOYEES}), CENTRE),
    # S7: the centre or the UD composes the jury while the session is open.
    "composer_jury": Action("composer le jury", OPEN, CENTRE | UD),
    # S6
    "saisir_date_fin_reelle": Action("saisir la date réelle de fin", frozenset({CONVOCATIONS_ENVOYEES}), CENTRE,
                                     conditions=(Condition("S6", _real_end_plausible),)),
    # S6, S7, S8: results need the real end date, a valid jury and a decision for every candidate.
    "saisir_resultats": Action("saisir les résultats", frozenset({CONVOCATIONS_ENVOYEES}), CENTRE, RESULTATS_SAISIS,
                               (Condition("S6", _real_end_entered), Condition("S7", _jury_complete),
                                Condition("S8", _all_decided))),
    # S8: the UD validates the results, or annuls the session.
    "valider": Action("valider la session", frozenset({RESULTATS_SAISIS}), UD, VALIDEE),
    "annuler": Action("annuler la session", OPEN | {RESULTATS_SAISIS}, UD | ADMIN, ANNULEE,
                      (Condition("S8", _reason_given),)),
    # S5: the UD postpones a session not yet started; the status stays.
    "reporter": Action("reporter la session", OPEN, UD,
                       conditions=(Condition("S5", _not_started), Condition("S5", _postponed_not_in_past), C_DATES,
                                   Condition("S5", _reason_given))),
    # S9: an administrator moves the end date of open sessions (mass operations).
    "deplacer_date_fin": Action("déplacer la date de fin", OPEN, ADMIN,
                                conditions=(C_DATES, Condition("S9", _reason_given))),
    # Once the documents are printed (printing service) or by an administrator.
    "finaliser": Action("finaliser la session", frozenset({VALIDEE}), frozenset({"service"}) | ADMIN, FINALISEE),
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    status: int = 200
    reason: str | None = None
    code: str | None = None
    waived: tuple[str, ...] = ()  # rules lifted by a relaxation period (recorded and shown to the UD)


def in_scope(role: str, principal, facts: Facts) -> bool:
    """I4: a centre user acts on their centres' sessions, an agent on those of their territory."""
    if role in CENTRE:
        return bool(facts.centre_siret) and principal.covers_siret(facts.centre_siret)
    return principal.covers_location(facts.departement, facts.region)


def decide(action_name: str, principal, facts: Facts) -> Decision:
    action = WORKFLOW[action_name]
    if not in_scope(principal.role, principal, facts):
        return Decision(False, 404, "Session introuvable.", "out_of_scope")
    if principal.role not in action.roles:
        who = ROLE_LABELS.get(principal.role, principal.role)
        return Decision(False, 403, f"Votre profil ({who}) ne permet pas de {action.label}.", "role")
    if facts.status not in action.from_statuses:
        return Decision(False, 409, f"Impossible de {action.label} : la session est « "
                                    f"{STATUS_LABELS[facts.status]} ».", "status")
    waived = []
    for condition in action.conditions:
        reason = condition.check(facts)
        if reason is None:
            continue
        if condition.waived_by_relaxation and facts.relaxation_id is not None:
            waived.append(reason)
            continue
        return Decision(False, 409, f"Impossible de {action.label} : {reason}", condition.rule)
    return Decision(True, waived=tuple(waived))


def available_actions(principal, facts: Facts) -> list[str]:
    """The actions the caller could take now (for the screens), by the same table."""
    return [name for name in WORKFLOW if decide(name, principal, facts).allowed]
