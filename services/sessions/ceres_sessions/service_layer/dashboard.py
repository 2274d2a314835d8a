"""The dashboard (S10) and the deadline warnings (B2)."""
from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ceres_shared.workers import PeriodicWorker

from .. import clock
from ..clock import PARIS
from ..domain import rules
from ..domain.workflow import CENTRE, CONVOCATIONS_ENVOYEES, DTE_ENVOYEE, EN_PREPARATION, OPEN, STATUS_LABELS
from ..models import Agrement, Centre, ExamSession, Habilitation, Jure, JuryMember, SessionCount, Site, Titre, Warning
from . import controls, counts
from .sessions import scope_clause, territory_clause

log = logging.getLogger(__name__)
HORIZON_DAYS = 15  # warn this many days before a deadline
PROLONGATION_HORIZON_DAYS = 60
RESULTS_DELAY_DAYS = 15  # B2: results still not entered this many days after the session's end are overdue
AGREMENT_HORIZON_MONTHS = 6  # S10: an agrément ending within 6 months is to follow (time to instruct a renewal)
AGREMENT_ROWS = 50
WARNING_ROWS = 100


def dashboard(session: Session, principal) -> dict:
    today = clock.today()
    first_day = rules.add_months(today, -12)
    per_status = _counts_per_status(session, principal, first_day)
    starts_from = first_day.isoformat()
    return {
        "depuis": starts_from,
        "par_statut": [{"status": status, "label": label, "count": per_status.get(status, (0, 0, 0))[0],
                        "liste": f"/sessions?status={status}&starts_from={starts_from}"}
                       for status, label in STATUS_LABELS.items()],
        "demandes_dte": sum(dte for _, dte, _ in per_status.values()),
        "sessions_sous_assouplissement": sum(relaxed for _, _, relaxed in per_status.values()),
        "agrements_a_suivre": agrements_to_follow(session, principal, today),
        "alertes": [_warning_dict(w) for w in warnings_in_scope(session, principal, today)],
        **({} if principal.role in CENTRE else {"controles": controls.counts(session, principal, first_day)}),
    }


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=PARIS)


def _counts_per_status(session: Session, principal, first_day: date) -> dict[str, tuple[int, int, int]]:
    """Per status (sessions, DTE requests, relaxed) of the sessions starting from `first_day`. An agent's whole months
    come from the counts table (kept with every change, counts.py); the month `first_day` falls in is counted from
    the sessions themselves, through the covering index. A centre's few sessions are counted directly."""
    if principal.role in CENTRE:
        return _count_sessions(session, scope_clause(principal), _midnight(first_day), None)
    whole_from = first_day if first_day.day == 1 else rules.add_months(first_day.replace(day=1), 1)
    totals = counts.totals(session, territory_clause(principal, SessionCount.departement, SessionCount.region),
                           whole_from)
    if whole_from > first_day:
        partial = _count_sessions(session, scope_clause(principal), _midnight(first_day), _midnight(whole_from))
        for status, figures in partial.items():
            totals[status] = tuple(a + b for a, b in zip(totals.get(status, (0, 0, 0)), figures))
    return totals


def _count_sessions(session: Session, scope, since: datetime, until: datetime | None) -> dict:
    window = [ExamSession.starts_at >= since] + ([ExamSession.starts_at < until] if until else [])
    rows = session.execute(select(ExamSession.status, func.count(), func.count(ExamSession.dte_requested_at),
                                  func.sum(case((ExamSession.under_relaxation.is_(True), 1), else_=0)))
                           .where(scope, *window).group_by(ExamSession.status))
    return {status: (n, dte, int(relaxed or 0)) for status, n, dte, relaxed in rows}


# --- S10: agréments to follow ------------------------------------------------------------------------------------
def agrements_to_follow(session: Session, principal, today: date) -> dict:
    """From the agrément projection: those granted that end within AGREMENT_HORIZON_MONTHS (the centre must ask for
    a renewal), and those withdrawn while sessions of their site and titre are still planned."""
    if principal.role in CENTRE:
        place = Agrement.centre_id.in_(select(Centre.centre_id).where(Centre.siret.in_(principal.sirets or [])))
    else:
        place = territory_clause(principal, Site.departement, Site.region)
    base = select(Agrement, Site).join(Site, Site.site_id == Agrement.site_id).where(place)
    horizon = rules.add_months(today, AGREMENT_HORIZON_MONTHS)
    ending = base.where(Agrement.status == "accorde", Agrement.valid_until >= today, Agrement.valid_until <= horizon)
    planned = (select(Agrement.agrement_id, func.count().label("planned"))
               .join(ExamSession, and_(ExamSession.site_id == Agrement.site_id,
                                       ExamSession.titre_code == Agrement.titre_code))
               .where(Agrement.status == "retire", ExamSession.status.in_(OPEN),
                      ExamSession.ends_at >= _midnight(today), scope_clause(principal))
               .group_by(Agrement.agrement_id).subquery())
    withdrawn = base.add_columns(planned.c.planned).join(planned, planned.c.agrement_id == Agrement.agrement_id)
    return {
        "horizon_mois": AGREMENT_HORIZON_MONTHS,
        "expirant": _agrement_list(session, ending.order_by(Agrement.valid_until, Agrement.agrement_id),
                                   "L'agrément prend fin le {until} : renouvellement à demander."),
        "retires_avec_sessions": _agrement_list(
            session, withdrawn.order_by(Site.departement, Agrement.agrement_id),
            "Agrément retiré : {planned} session(s) encore programmée(s) sur ce site.", few=True),
    }


def _agrement_list(session: Session, stmt, text: str, *, few: bool = False) -> dict:
    """The first rows and how many in all: in one query with a window count when the rows are few (an anomaly
    list), else a count then the first rows in index order (the walk stops early)."""
    if few:
        stmt = stmt.add_columns(func.count().over().label("total"))
        total = None
    else:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = []
    for row in session.execute(stmt.limit(AGREMENT_ROWS)):
        a, site = row[0], row[1]
        total = row.total if few else total
        planned = row.planned if "planned" in row._fields else None
        items.append({"agrement_id": a.agrement_id, "titre_code": a.titre_code, "site_id": a.site_id,
                      "site": site.name, "departement": site.departement, "valid_until": a.valid_until,
                      "status": a.status, "sessions_programmees": planned,
                      "message": text.format(until=_fr(a.valid_until) if a.valid_until else "…", planned=planned),
                      "liste": f"/sessions?site_id={a.site_id}&titre_code={a.titre_code}"})
    return {"count": total or 0, "agrements": items}


def warnings_in_scope(session: Session, principal, today) -> list[Warning]:
    """The warnings of the caller's territory still to act on (a session's warnings are removed once it moves past
    the step they were about, sessions._resolve_warnings): those due from a week ago on, and results overdue however
    old. Two queries, each walking its index in due-date order."""
    if principal.role in CENTRE:
        place = Warning.session_id.in_(select(ExamSession.id).where(scope_clause(principal)))
    elif principal.national:
        place = true()
    else:
        place = or_(Warning.departement.in_(principal.departements), Warning.region.in_(principal.regions),
                    Warning.departement.is_(None))
    week_ago = today - timedelta(days=7)
    recent = list(session.scalars(select(Warning).where(place, Warning.due_date >= week_ago)
                                  .order_by(Warning.due_date).limit(WARNING_ROWS)))
    overdue = list(session.scalars(select(Warning).where(place, Warning.kind == "results", Warning.due_date < week_ago)
                                   .order_by(Warning.due_date).limit(WARNING_ROWS)))
    return sorted(overdue + recent, key=lambda w: w.due_date)[:WARNING_ROWS]


def _warning_dict(w: Warning) -> dict:
    return {"kind": w.kind, "session_id": w.session_id, "subject_id": w.subject_id, "due_date": w.due_date,
            "message": w.message}


# --- B2: the scanner --------------------------------------------------------------------------------------------
def scan(rt) -> int:
    """Finds deadlines about to be missed; raises each warning once (and a session.deadline_approaching event for
    those of a session). Returns how many new warnings."""
    today = clock.today()
    horizon = today + timedelta(days=HORIZON_DAYS)
    raised = 0
    with rt.session_factory.begin() as session:
        for status, months, kind, text in (
            (EN_PREPARATION, rules.DTE_MONTHS, "dte", "Demande de DTE à faire au plus tard le {due}"),
            (DTE_ENVOYEE, rules.CONVOCATION_MONTHS, "convocations", "Convocations à envoyer au plus tard le {due}"),
        ):
            low = rules.at_eight(rules.add_months(today, months)).replace(hour=0)
            high = rules.at_eight(rules.add_months(horizon, months)).replace(hour=23)
            for s in session.scalars(select(ExamSession).where(ExamSession.status == status,
                                                               ExamSession.starts_at.between(low, high))):
                due = rules.add_months(rules.paris_day(s.starts_at), -months)
                raised += _raise(session, rt, kind, s.id, s, due, f"{s.public_id} : {text.format(due=_fr(due))}.")
        raised += _scan_results(session, rt, today)
        raised += _scan_habilitations(session, rt, today)
        raised += _scan_prolongations(session, rt, today)
    return raised


def _scan_results(session: Session, rt, today) -> int:
    """Sessions ended (on their real end date, or their planned end while it is not entered, S6) more than
    RESULTS_DELAY_DAYS days ago whose results are still not entered; the warning's due date is the last day the
    results were expected."""
    raised = 0
    limit = today - timedelta(days=RESULTS_DELAY_DAYS)
    for s in session.scalars(select(ExamSession).where(ExamSession.status == CONVOCATIONS_ENVOYEES,
                                                       or_(ExamSession.ends_at < _midnight(today),
                                                           ExamSession.real_end_date.is_not(None)))):
        ended = s.real_end_date or rules.paris_day(s.ends_at)
        if ended >= limit:  # the due date (end + RESULTS_DELAY_DAYS) is not passed yet
            continue
        which = "date réelle de fin" if s.real_end_date else "fin prévue, date réelle non saisie"
        raised += _raise(session, rt, "results", s.id, s, ended + timedelta(days=RESULTS_DELAY_DAYS),
                         f"{s.public_id} : résultats en retard, non saisis {RESULTS_DELAY_DAYS} jours après la fin "
                         f"de la session ({which} : {_fr(ended)}).")
    return raised


def _scan_habilitations(session: Session, rt, today) -> int:
    """Jurés of an open session whose habilitation (extension included) ends before the session does."""
    raised = 0
    rows = session.execute(select(ExamSession, Jure).join(JuryMember, JuryMember.session_id == ExamSession.id)
                           .join(Jure, Jure.id == JuryMember.jure_id)
                           .where(ExamSession.status.in_(OPEN),
                                  ExamSession.ends_at >= rules.at_eight(today)))
    for s, jure in rows:
        eov = session.scalar(select(Titre.end_of_validity).where(Titre.code == s.titre_code)
                             .order_by(Titre.version_date.desc()).limit(1))
        ends = [rules.habilitation_effective_until(h.valid_until, eov) for h in session.scalars(
            select(Habilitation).where(Habilitation.jure_id == jure.id, Habilitation.titre_code == s.titre_code))]
        last = max(ends) if ends else today
        if last < rules.paris_day(s.ends_at):
            raised += _raise(session, rt, "habilitation", f"{s.id}:{jure.id}", s, last,
                             f"{s.public_id} : l'habilitation de {jure.prenom} {jure.nom} s'achève le {_fr(last)}, "
                             f"avant la fin de la session.")
    return raised


def _scan_prolongations(session: Session, rt, today) -> int:
    raised = 0
    for titre in session.scalars(select(Titre).where(Titre.end_of_validity.is_not(None))):
        last = rules.last_session_day(titre.end_of_validity, None, titre.prolongation_until)
        if today <= last <= today + timedelta(days=PROLONGATION_HORIZON_DAYS):
            raised += _raise(session, rt, "prolongation", titre.code, None, last,
                             f"{titre.code} {titre.libelle} : la prolongation s'achève le {_fr(last)} "
                             f"(24 mois pour les CFA et CRP).")
    return raised


def _raise(session: Session, rt, kind: str, subject: str, s: ExamSession | None, due, message: str) -> int:
    exists = session.scalar(select(Warning.id).where(Warning.kind == kind, Warning.subject_id == subject,
                                                     Warning.due_date == due))
    if exists:
        return 0
    try:
        with session.begin_nested():
            session.add(Warning(kind=kind, subject_id=subject, session_id=s.id if s else None,
                                departement=s.departement if s else None, region=s.region if s else None,
                                due_date=due, message=message, raised_at=clock.now()))
    except IntegrityError:  # another scanner raised it first
        return 0
    if s is not None:
        rt.outbox.record(session, "session.deadline_approaching",
                         {"session_id": s.id, "deadline": kind, "due_date": due.isoformat()})
    return 1


def _fr(day) -> str:
    return day.strftime("%d/%m/%Y")


class DeadlineScanner(PeriodicWorker):
    """Extra worker of the runtime (B2): scans every `interval` seconds."""

    interval = 300.0

    def tick(self) -> bool:
        scan(self.rt)
        return False
