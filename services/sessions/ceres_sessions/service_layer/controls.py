"""Controls of sessions by the State's services (S10 « suivi des contrôles »): an agent plans one on a session of
the territory, records its outcome or cancels it; the dashboard counts them. Agents only: a centre is not told."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ceres_shared.audit import refusal
from ceres_shared.db import lock_for_update
from ceres_shared.errors import ApiError, Conflict, NotFound

from .. import clock
from ..domain import rules
from ..domain.controls import KINDS, OUTCOMES, STATUS_LABELS, VIEWS
from ..domain.workflow import ANNULEE
from ..models import Control, ExamSession
from .sessions import get_visible, territory_clause


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(422, "Certaines données sont invalides.", errors={field: [message]})


def _fields(c: Control) -> dict:
    return {"id": c.id, "kind": c.kind, "planned_on": c.planned_on, "status": c.status, "outcome": c.outcome,
            "observations": c.observations, "done_on": c.done_on, "done_by": c.done_by,
            "cancel_reason": c.cancel_reason}


def as_dict(c: Control, s: ExamSession | None = None) -> dict:
    body = {**_fields(c), "session_id": c.session_id, "kind_label": KINDS[c.kind],
            "status_label": STATUS_LABELS[c.status], "outcome_label": OUTCOMES.get(c.outcome),
            "created_by": c.created_by, "created_at": c.created_at, "departement": c.departement,
            "en_retard": c.status == "programme" and c.planned_on < clock.today()}
    if s is not None:
        body.update(session_public_id=s.public_id, titre_code=s.titre_code, site_id=s.site_id,
                    starts_at=s.starts_at, ends_at=s.ends_at)
    return body


def _trace(session: Session, rt, principal, c: Control, action: str, before: dict | None, reason: str | None = None):
    # On the session's trail: the session's history (agents' view) shows the controls beside its steps.
    rt.audit.record(session, entity_type="session", entity_id=c.session_id, action=action, actor=principal.label,
                    actor_role=principal.role, before=before, after={**_fields(c), "control_id": c.id},
                    reason=reason)


def plan(session: Session, principal, session_id: str, kind: str, planned_on: date, rt) -> Control:
    s = get_visible(session, principal, session_id, lock=True)  # I4: only a session of the caller's territory
    if s.status == ANNULEE:
        raise Conflict("La session est annulée : il n'y a rien à contrôler.", code="session_annulee")
    first = rules.paris_day(s.starts_at)
    last = s.real_end_date or rules.paris_day(s.ends_at)
    if kind == "sur_place" and not first <= planned_on <= last:
        raise _invalid("planned_on", f"Un contrôle sur place a lieu pendant la session, du {first:%d/%m/%Y} "
                                     f"au {last:%d/%m/%Y}.")
    if kind == "sur_pieces" and planned_on < first:
        raise _invalid("planned_on", f"Un contrôle sur pièces ne peut pas précéder le début de la session "
                                     f"({first:%d/%m/%Y}).")
    if planned_on < clock.today() - timedelta(days=365):
        raise _invalid("planned_on", "Cette date a plus d'un an.")
    c = Control(session_id=s.id, departement=s.departement, region=s.region, kind=kind, planned_on=planned_on,
                status="programme", created_by=principal.label, created_at=clock.now())
    session.add(c)
    session.flush()
    _trace(session, rt, principal, c, "controle_programme", None)
    return c


def _load(session: Session, principal, control_id: int, *, lock: bool = False) -> Control:
    scope = territory_clause(principal, Control.departement, Control.region)
    c = (lock_for_update(session, Control, control_id, scope) if lock
         else session.scalar(select(Control).where(Control.id == control_id, scope)))
    if c is None:
        raise refusal(session, Control, control_id, "controle", NotFound("Contrôle introuvable."))  # I4, traced
    return c


def read(session: Session, principal, control_id: int) -> dict:
    c = _load(session, principal, control_id)
    return as_dict(c, session.get(ExamSession, c.session_id))


def _load_planned(session: Session, principal, control_id: int) -> Control:
    """A control still to carry out: its outcome or its cancellation closes it."""
    c = _load(session, principal, control_id, lock=True)  # an outcome and a cancellation at once: one wins
    if c.status != "programme":
        raise Conflict(f"Ce contrôle est déjà {STATUS_LABELS[c.status]}.", code="controle_clos")
    return c


def record_outcome(session: Session, principal, control_id: int, outcome: str, observations: str | None, rt):
    c = _load_planned(session, principal, control_id)
    today = clock.today()
    if c.planned_on > today:
        raise Conflict(f"Le contrôle est prévu le {c.planned_on:%d/%m/%Y} : son résultat se saisit ensuite.",
                       code="controle_a_venir")
    if outcome != "conforme" and not (observations or "").strip():
        raise _invalid("observations", "Décrivez ce qui a été constaté (obligatoire sauf si le contrôle est conforme).")
    before = _fields(c)
    c.status, c.outcome, c.observations = "realise", outcome, (observations or "").strip() or None
    c.done_on, c.done_by = today, principal.label
    _trace(session, rt, principal, c, "controle_realise", before)
    return c


def cancel(session: Session, principal, control_id: int, reason: str, rt) -> Control:
    c = _load_planned(session, principal, control_id)
    before = _fields(c)
    c.status, c.cancel_reason = "annule", reason.strip()
    _trace(session, rt, principal, c, "controle_annule", before, reason=c.cancel_reason)
    return c


def of_session(session: Session, session_id: str) -> list[Control]:
    return list(session.scalars(select(Control).where(Control.session_id == session_id)
                                .order_by(Control.planned_on, Control.id)))


def _view_clause(view: str, since: date, today: date):
    return {
        "programmes": (Control.status == "programme", Control.planned_on >= today),
        "en_retard": (Control.status == "programme", Control.planned_on < today),
        "realises": (Control.status == "realise", Control.done_on >= since),
        "non_conformes": (Control.status == "realise", Control.outcome == "non_conforme", Control.done_on >= since),
    }[view]


def counts(session: Session, principal, since: date) -> dict:
    """S10, last 12 months: planned (to come), overdue (planned, date passed, no outcome), done, not compliant."""
    today = clock.today()
    scope = territory_clause(principal, Control.departement, Control.region)
    # One pass over the scope's controls, a filtered count per view (four queries walked them four times).
    row = session.execute(select(*(func.count().filter(and_(*_view_clause(view, since, today))) for view in VIEWS))
                          .where(scope)).one()
    return dict(zip(VIEWS, row))


def listing(session: Session, principal, view: str, page: int, per_page: int) -> tuple[int, list[dict]]:
    today = clock.today()
    where = (territory_clause(principal, Control.departement, Control.region),
             *_view_clause(view, rules.add_months(today, -12), today))
    total = session.scalar(select(func.count()).select_from(Control).where(*where))
    order = (Control.planned_on, Control.id) if view in ("programmes", "en_retard") else (Control.done_on.desc(),
                                                                                        Control.id.desc())
    rows = session.execute(select(Control, ExamSession).join(ExamSession, ExamSession.id == Control.session_id)
                           .where(*where).order_by(*order).offset((page - 1) * per_page).limit(per_page))
    return total, [as_dict(c, s) for c, s in rows]
