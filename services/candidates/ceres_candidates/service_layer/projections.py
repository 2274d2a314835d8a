"""The certification path and the references it needs, built from other services' events. Each function runs in
the consumer's inbox transaction (an event changes things once), and tolerates ids it does not know yet."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Candidate, CentreRef, Document, Enrolment, SiteRef, TitreRef


def _now() -> datetime:
    return datetime.now(timezone.utc)


def current_id(session: Session, candidate_id: int) -> int:
    """Events may still name a merged record: follow it to the survivor."""
    seen = set()
    while candidate_id not in seen:
        seen.add(candidate_id)
        target = session.scalar(select(Candidate.merged_into).where(Candidate.id == candidate_id))
        if target is None:
            return candidate_id
        candidate_id = target
    return candidate_id


def _enrolment(session: Session, candidate_id: int, session_id: str) -> Enrolment:
    target = current_id(session, candidate_id)
    e = session.scalar(select(Enrolment).where(Enrolment.candidate_id == target, Enrolment.session_id == session_id))
    if e is None:
        # Complete from the start: later queries of the same batch autoflush it.
        e = Enrolment(candidate_id=target, first_candidate_id=candidate_id, session_id=session_id, enrolled=True,
                      updated_at=_now())
        session.add(e)
    return e


def session_changed(session: Session, payload: dict) -> None:
    """session.created / status_changed / postponed / cancelled: enrolments with the session's facts."""
    listed = set(payload.get("candidate_ids") or [])
    existing = session.scalars(select(Enrolment).where(Enrolment.session_id == payload["session_id"])).all()
    touched = [_enrolment(session, cid, payload["session_id"]) for cid in sorted(listed)]
    # A candidate no longer listed was taken off the session (the last one too: the list is then empty); the line
    # stays in the path, and the centre no longer sees the record through it (I4, access.py).
    for e in existing:
        if e.first_candidate_id not in listed and e.candidate_id not in listed:
            e.enrolled = False
            touched.append(e)
    for e in touched:
        _session_facts(e, payload)
        if e.candidate_id in listed or e.first_candidate_id in listed:
            e.enrolled = True


def enrolment_changed(session: Session, payload: dict) -> None:
    """session.enrolment_changed: one candidate enrolled, withdrawn or marked absent, at once — the centre reads
    the record of whom it enrols and no longer of whom it withdrew (I4, access.py). An unknown session or person
    gets its line all the same (their own events may come later)."""
    e = _enrolment(session, payload["candidate_id"], payload["session_id"])
    _session_facts(e, payload)
    e.enrolled = payload["state"] != "retire"  # an absent candidate stays on the session's list


def _session_facts(e: Enrolment, payload: dict) -> None:
    e.public_id, e.titre_code, e.titre_version = payload["public_id"], payload["titre_code"], payload["titre_version"]
    e.site_id, e.centre_id, e.status = payload["site_id"], payload["centre_id"], payload["status"]
    e.starts_at, e.ends_at, e.updated_at = payload["starts_at"], payload.get("ends_at"), _now()


def session_validated(session: Session, payload: dict) -> None:
    """session.validated: the jury's decision and CCPs obtained, per candidate (S8)."""
    for result in payload["results"]:
        e = _enrolment(session, result["candidate_id"], payload["session_id"])
        e.public_id, e.titre_code, e.titre_version = payload["public_id"], payload["titre_code"], payload["titre_version"]
        e.site_id, e.centre_id, e.status = payload["site_id"], payload["centre_id"], "validee"
        e.decision, e.ccps_obtained = result["decision"], list(result.get("ccps_obtained") or [])
        e.validated_at, e.updated_at = payload["validated_at"], _now()
        if payload.get("ends_on") and e.ends_at is None:
            e.ends_at = datetime.combine(payload["ends_on"], datetime.min.time(), tzinfo=timezone.utc)


def document_changed(session: Session, payload: dict) -> None:
    owner = current_id(session, payload["candidate_id"])
    doc = session.get(Document, payload["document_number"]) or Document(document_number=payload["document_number"])
    doc.candidate_id, doc.document_type, doc.status = owner, payload["document_type"], payload["status"]
    doc.session_id, doc.updated_at = payload.get("session_id"), _now()
    session.add(doc)


def centre_changed(session: Session, payload: dict) -> None:
    ref = session.get(CentreRef, payload["centre_id"]) or CentreRef(centre_id=payload["centre_id"])
    ref.siret = payload["siret"]
    session.add(ref)


def site_changed(session: Session, payload: dict) -> None:
    ref = session.get(SiteRef, payload["site_id"]) or SiteRef(site_id=payload["site_id"])
    ref.centre_id, ref.departement, ref.region = payload["centre_id"], payload["departement"], payload["region"]
    session.add(ref)


def titre_changed(session: Session, payload: dict) -> None:
    key = (payload["code"], payload["version_date"])
    ref = session.get(TitreRef, key) or TitreRef(code=key[0], version_date=key[1])
    ref.libelle, ref.ccps = payload["libelle"], [dict(c) for c in payload.get("ccps") or []]
    session.add(ref)


def titre_labels(session: Session) -> dict:
    return {(t.code, t.version_date): t.libelle for t in session.scalars(select(TitreRef))}
