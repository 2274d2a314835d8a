"""The dashboard (S10) and the deadline warnings (B2)."""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import and_, case, func, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import clock
from ..domain import rules
from ..domain.workflow import CENTRE, DTE_ENVOYEE, EN_PREPARATION, OPEN, STATUS_LABELS
from ..models import ExamSession, Habilitation, Jure, JuryMember, Titre, Warning
from .sessions import scope_clause

log = logging.getLogger(__name__)
HORIZON_DAYS = 15  # warn this many days before a deadline
PROLONGATION_HORIZON_DAYS = 60


def dashboard(session: Session, principal) -> dict:
    today = clock.today()
    since = rules.at_eight(rules.add_months(today, -12)).replace(hour=0)
    scoped = and_(scope_clause(principal), ExamSession.starts_at >= since)
    # One pass over the scope's last 12 months, answered from the covering index on PostgreSQL.
    rows = session.execute(select(ExamSession.status, func.count(), func.count(ExamSession.dte_requested_at),
                                  func.sum(case((ExamSession.under_relaxation.is_(True), 1), else_=0)))
                           .where(scoped).group_by(ExamSession.status)).all()
    counts = {status: count for status, count, _, _ in rows}
    dte = sum(requested for _, _, requested, _ in rows)
    relaxed = sum(int(flagged or 0) for _, _, _, flagged in rows)
    starts_from = since.date().isoformat()
    return {
        "depuis": starts_from,
        "par_statut": [{"status": status, "label": label, "count": counts.get(status, 0),
                        "liste": f"/sessions?status={status}&starts_from={starts_from}"}
                       for status, label in STATUS_LABELS.items()],
        "demandes_dte": dte,
        "sessions_sous_assouplissement": relaxed,
        "alertes": [_warning_dict(w) for w in warnings_in_scope(session, principal, today)],
    }


def warnings_in_scope(session: Session, principal, today) -> list[Warning]:
    recent = Warning.due_date >= today - timedelta(days=7)
    if principal.role in CENTRE:
        place = Warning.session_id.in_(select(ExamSession.id).where(scope_clause(principal)))
    elif principal.national:
        place = true()
    else:
        place = or_(Warning.departement.in_(principal.departements), Warning.region.in_(principal.regions),
                    Warning.departement.is_(None))
    return list(session.scalars(select(Warning).where(recent, place).order_by(Warning.due_date).limit(100)))


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
        raised += _scan_habilitations(session, rt, today)
        raised += _scan_prolongations(session, rt, today)
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


class DeadlineScanner:
    """Extra worker of the runtime (B2): scans every `interval` seconds."""

    def __init__(self, rt, interval: float = 300.0):
        self.rt = rt
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                scan(self.rt)
            except Exception:  # noqa: BLE001 - keep scanning after a database hiccup
                log.exception("deadline scan failed")
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
