"""Agréments (E7): request, instruct, grant, refuse, withdraw, end; every decision kept; `agrement.*` events."""
from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.errors import ApiError, Conflict, NotFound
from ceres_shared.runtime import Runtime

from ..domain.rules import (
    AGREMENT_EVENTS,
    AGREMENT_TRANSITIONS,
    OPEN_AGREMENT_STATUSES,
    STATUS_LABELS,
    agrement_period_errors,
)
from ..models import Agrement, AgrementDecision, Centre, Site, Titre
from .access import require_site, site_filter
from .common import agrement_payload, invalid, now, snapshot
from .sites import get_site

AGREMENT_FIELDS = ("site_id", "titre_code", "titre_version", "status", "valid_from", "valid_until")


def agrement_id_for(site_id: str, titre_code: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ceres:agrement:{site_id}:{titre_code}"))


def get_agrement(session: Session, agrement_id: str, *, lock: bool = False) -> Agrement:
    query = select(Agrement).where(Agrement.id == agrement_id)
    agrement = session.scalar(query.with_for_update() if lock else query)
    if agrement is None:
        raise NotFound("Cet agrément n'existe pas.")
    return agrement


def read_agrement(session: Session, p: Principal, agrement_id: str) -> Agrement:
    agrement = get_agrement(session, agrement_id)
    require_site(p, agrement.site)
    return agrement


def _titre(session: Session, code: str, version: date | None) -> Titre:
    query = select(Titre).where(Titre.code == code)
    query = query.where(Titre.version_date == version) if version else query.order_by(Titre.version_date.desc())
    titre = session.scalars(query).first()
    if titre is None:
        raise invalid("titre_code", f"Titre inconnu du catalogue de CERES : {code}"
                                    + (f" (version du {version:%d/%m/%Y})." if version else "."))
    return titre


def _decide(session: Session, agrement: Agrement, action: str, p: Principal, reason: str | None,
            at: datetime) -> None:
    session.add(AgrementDecision(agrement_id=agrement.id, action=action, status=agrement.status,
                                 valid_from=agrement.valid_from, valid_until=agrement.valid_until, reason=reason,
                                 by=p.label, at=at))


def request_agrement(rt: Runtime, session: Session, p: Principal, site_id: str, titre_code: str,
                     titre_version: date | None, reason: str | None = None, agrement_id: str | None = None) -> Agrement:
    site = get_site(session, site_id, lock=True)
    require_site(p, site)
    if site.closed_at is not None:
        raise Conflict("Un site fermé ne peut pas recevoir d'agrément.", code="site_closed")
    titre = _titre(session, titre_code, titre_version)
    open_ones = [a for a in site.agrements if a.titre_code == titre.code and a.status in OPEN_AGREMENT_STATUSES]
    if open_ones:
        raise Conflict(f"Ce site a déjà un agrément {STATUS_LABELS[open_ones[0].status]} pour {titre.code}.",
                       code="agrement_exists", agrement_id=open_ones[0].id)
    if titre.kind == "CCS" and titre.ccs_of:  # E7: a CCS agrément needs the TP's
        if not any(a.titre_code == titre.ccs_of and a.status == "accorde" for a in site.agrements):
            raise Conflict(f"Un agrément pour le CCS {titre.code} suppose l'agrément du titre {titre.ccs_of}.",
                           code="ccs_needs_tp")
    at = now()
    agrement = Agrement(id=agrement_id or str(uuid.uuid4()), site_id=site.id, titre_code=titre.code,
                        titre_version=titre.version_date, status="en_instruction", created_at=at, updated_at=at)
    session.add(agrement)
    session.flush()
    _decide(session, agrement, "request", p, reason, at)
    rt.audit.record(session, entity_type="agrement", entity_id=agrement.id, action="request", actor=p.label,
                    actor_role=p.role, after=snapshot(agrement, AGREMENT_FIELDS), reason=reason)
    return agrement


def decide(rt: Runtime, session: Session, p: Principal, agrement_id: str, action: str, *,
           valid_from: date | None = None, valid_until: date | None = None, reason: str | None = None) -> Agrement:
    """One step of the workflow table (domain/rules.py); a step not allowed from the current status is a 409."""
    agrement = get_agrement(session, agrement_id, lock=True)
    require_site(p, agrement.site)
    moves = AGREMENT_TRANSITIONS.get(action)
    if moves is None:
        raise NotFound("Action inconnue.")
    if agrement.status not in moves:
        raise Conflict(f"Action impossible : l'agrément est {STATUS_LABELS[agrement.status]}.",
                       code="agrement_status")
    if action in ("refuse", "withdraw") and not (reason or "").strip():
        raise invalid("reason", "Le motif est obligatoire.")
    before = snapshot(agrement, AGREMENT_FIELDS)
    if action == "grant":
        titre = _titre(session, agrement.titre_code, agrement.titre_version)
        errors = agrement_period_errors(valid_from, valid_until, titre.end_of_validity)
        if errors:
            raise ApiError(422, "Certaines données sont invalides.", errors=errors)
        agrement.valid_from, agrement.valid_until = valid_from, valid_until
    elif action in ("withdraw", "end"):
        end = valid_until or date.today()
        if agrement.valid_from and end < agrement.valid_from:
            raise invalid("valid_until", "La date de fin précède la date de début.")
        agrement.valid_until = min(end, agrement.valid_until) if agrement.valid_until else end
    at = now()
    agrement.status = moves[agrement.status]
    agrement.updated_at = at
    session.flush()
    _decide(session, agrement, action, p, reason, at)
    rt.audit.record(session, entity_type="agrement", entity_id=agrement.id, action=action, actor=p.label,
                    actor_role=p.role, before=before, after=snapshot(agrement, AGREMENT_FIELDS), reason=reason)
    if action in AGREMENT_EVENTS:
        rt.outbox.record(session, AGREMENT_EVENTS[action], agrement_payload(agrement))
    return agrement


def list_by_status(session: Session, p: Principal, status: str, page: int, per_page: int) -> dict:
    """E7: the agréments of one status within the caller's scope (a DREETS's région, an UD's département, a
    centre's sites), oldest request first — the queue a DREETS instructs. The scope is a WHERE, never a filter
    applied after reading."""
    stmt = (select(Agrement, Site, Centre, Titre.libelle)
            .join(Site, Site.id == Agrement.site_id)
            .join(Centre, Centre.id == Site.centre_id)
            .outerjoin(Titre, and_(Titre.code == Agrement.titre_code, Titre.version_date == Agrement.titre_version))
            .where(Agrement.status == status, site_filter(p)))
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.execute(stmt.order_by(Agrement.created_at, Agrement.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return {"total": total, "page": page, "per_page": per_page, "status": status, "agrements": [
        {"id": a.id, "titre_code": a.titre_code, "titre_version": a.titre_version, "titre_libelle": libelle,
         "status": a.status, "requested_at": a.created_at, "updated_at": a.updated_at,
         "site": {"id": site.id, "name": site.name, "commune_label": site.commune_label,
                  "departement": site.departement, "region": site.region},
         "centre": {"id": centre.id, "siret": centre.siret, "raison_sociale": centre.raison_sociale}}
        for a, site, centre, libelle in rows]}
