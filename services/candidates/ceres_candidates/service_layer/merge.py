"""C1: merge two records of one person. The survivor keeps its CERES id; the other stays (never deleted, its id
never reused) and redirects to it; the certification path and documents move over, histories stay readable from
the survivor; `candidate.merged` lets sessions and printing re-point their references."""
from __future__ import annotations

from sqlalchemy import select, update as sql_update
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.errors import ApiError, Conflict

from ..models import Candidate, CandidateGrant, Document, Enrolment
from . import grants
from .records import ENTITY, load, now, snapshot

# Fields the survivor takes from the merged record when it has none.
_FILLABLE = ("nom_usage", "email", "phone", "formation", "emploi", "birth_commune_code", "birth_commune_label",
             "birth_departement", "address_lines", "address_code_postal", "address_commune_code",
             "address_commune_label", "address_country", "address_departement", "address_region")


def merge(session: Session, rt, principal: Principal, surviving_id: int, merged_id: int, reason: str) -> Candidate:
    if surviving_id == merged_id:
        raise ApiError(422, "Certaines données sont invalides.", code="invalid",
                       errors={"merged_id": ["Un dossier ne peut pas être fusionné avec lui-même."]})
    # Lock both rows in id order: two merges of the same pair cannot interleave.
    first, second = sorted((surviving_id, merged_id))
    rows = {first: load(session, principal, first, for_update=True),
            second: load(session, principal, second, for_update=True)}
    survivor, merged = rows[surviving_id], rows[merged_id]
    for c in (survivor, merged):
        if c.merged_into is not None:
            raise Conflict(f"Le dossier n° {c.id} a déjà été fusionné dans le dossier n° {c.merged_into}.",
                           code="merged")
    before_survivor, before_merged = snapshot(survivor), snapshot(merged)
    for field in _FILLABLE:
        if getattr(survivor, field) in (None, "", []) and getattr(merged, field) not in (None, "", []):
            setattr(survivor, field, getattr(merged, field))
    if merged.vae:
        survivor.vae = True
    # The path: sessions the survivor already has keep its row; the decision is taken over when it has none.
    theirs = {e.session_id: e for e in session.scalars(select(Enrolment).where(Enrolment.candidate_id == merged_id))}
    ours = {e.session_id: e for e in session.scalars(
        select(Enrolment).where(Enrolment.candidate_id == surviving_id, Enrolment.session_id.in_(list(theirs))))}
    for session_id, e in theirs.items():
        kept = ours.get(session_id)
        if kept is None:
            e.candidate_id = surviving_id
            continue
        kept.decision = kept.decision or e.decision
        kept.ccps_obtained = sorted(set(kept.ccps_obtained or []) | set(e.ccps_obtained or []))
        session.delete(e)
    session.execute(sql_update(Document).where(Document.candidate_id == merged_id).values(candidate_id=surviving_id))
    merged.merged_into, merged.merged_at = surviving_id, now()
    merged.updated_at = survivor.updated_at = now()
    for c, before, action in ((merged, before_merged, "merged_into"), (survivor, before_survivor, "merge")):
        rt.audit.record(session, entity_type=ENTITY, entity_id=str(c.id), action=action, actor=principal.label,
                        actor_role=principal.role, before=before, after=snapshot(c),
                        reason=f"Fusion du dossier n° {merged_id} dans le dossier n° {surviving_id} : {reason}")
    rt.outbox.record(session, "candidate.merged", {"surviving_id": surviving_id, "merged_id": merged_id})
    # I4: a centre that could enrol the person under the merged number still can, under the kept one.
    for grant in list(session.scalars(select(CandidateGrant).where(CandidateGrant.candidate_id == merged_id))):
        grants.share(session, rt, surviving_id, grant.siret, grant.reason)
    return survivor
