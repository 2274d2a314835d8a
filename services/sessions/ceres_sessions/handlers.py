"""Events the sessions service consumes: local copies of centres, sites, agréments (establishments) and
candidates (candidates), so that a session can be checked while those services are down. Each handler runs inside
the consumer's inbox transaction, tolerates events for parents it does not know yet, and is idempotent."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ceres_shared.audit import AuditTrail
from ceres_shared.bus.consumer import Handler
from ceres_shared.events import Envelope

from .models import (Agrement, Candidate, CandidateGrant, Centre, ConflictOfInterest, Enrolment, ExamSession, Site,
                     platform)
from .service_layer.sessions import reassign_site_sessions

_AUDIT = AuditTrail(platform)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _upsert(session: Session, model, key, values: dict) -> None:
    row = session.get(model, key)
    if row is None:
        session.add(model(**values))
    else:
        for name, value in values.items():
            setattr(row, name, value)


def on_centre(session: Session, env: Envelope) -> None:
    p = env.payload
    _upsert(session, Centre, p["centre_id"], {
        "centre_id": p["centre_id"], "siret": p["siret"], "raison_sociale": p["raison_sociale"],
        "commune_code": p.get("commune_code"), "type_centre": p.get("type_centre")})  # type: S1 (CFA/CRP)


def on_site(session: Session, env: Envelope) -> None:
    p = env.payload
    _upsert(session, Site, p["site_id"], {
        "site_id": p["site_id"], "centre_id": p["centre_id"], "name": p["name"], "commune_code": p["commune_code"],
        "commune_label": p.get("commune_label"), "departement": p["departement"], "region": p["region"],
        "zone": p["zone"], "closed_at": _day(p.get("closed_at"))})
    # The site's commune fixes the competent UD and DREETS (E4): the sessions follow it, through the ORM so that
    # the dashboard's counts move with them (counts.py).
    for s in session.scalars(select(ExamSession).where(ExamSession.site_id == p["site_id"])):
        s.departement, s.region, s.site_commune_code = p["departement"], p["region"], p["commune_code"]


def on_site_transferred(session: Session, env: Envelope) -> None:
    """E5 / seed 000: the site moves with all its agréments and sessions to the target centre."""
    p = env.payload
    site = session.get(Site, p["site_id"])
    if site is not None:
        site.centre_id = p["to_centre_id"]
    session.execute(update(Agrement).where(Agrement.site_id == p["site_id"]).values(centre_id=p["to_centre_id"]))
    for s in reassign_site_sessions(session, p["site_id"], p["to_centre_id"]):
        _AUDIT.record(session, entity_type="session", entity_id=s.id, action="site_transferred", actor=p["by"],
                     before={"centre_id": p["from_centre_id"]}, after={"centre_id": p["to_centre_id"]},
                     reason=f"Transfert du site {p['site_id']} (événement {env.id})")


def on_agrement(session: Session, env: Envelope) -> None:
    p = env.payload
    _upsert(session, Agrement, p["agrement_id"], {
        "agrement_id": p["agrement_id"], "site_id": p["site_id"], "centre_id": p["centre_id"],
        "titre_code": p["titre_code"], "titre_version": _day(p["titre_version"]),
        "valid_from": _day(p.get("valid_from")), "valid_until": _day(p.get("valid_until")), "status": p["status"]})


def on_candidate(session: Session, env: Envelope) -> None:
    p = env.payload
    _upsert(session, Candidate, p["candidate_id"], {
        "candidate_id": p["candidate_id"], "nom": p.get("nom_usage") or p["nom_naissance"],
        "prenoms": " ".join(p["prenoms"]), "birth_date": _day(p.get("birth_date"))})


def on_candidate_shared(session: Session, env: Envelope) -> None:
    """I4/C1: this centre may enrol the person (enrol() checks it)."""
    key = (env.payload["candidate_id"], env.payload["siret"])
    if session.get(CandidateGrant, key) is None:
        session.add(CandidateGrant(candidate_id=key[0], siret=key[1]))


def on_candidate_merged(session: Session, env: Envelope) -> None:
    """C1: the merged record's enrolments and conflicts move to the surviving one (unless already there)."""
    survivor, merged = env.payload["surviving_id"], env.payload["merged_id"]
    row = session.get(Candidate, merged)
    if row is not None:
        row.merged_into = survivor
    for enrolment in list(session.scalars(select(Enrolment).where(Enrolment.candidate_id == merged))):
        if session.get(Enrolment, (enrolment.session_id, survivor)) is None:
            session.execute(update(Enrolment).where(Enrolment.session_id == enrolment.session_id,
                                                    Enrolment.candidate_id == merged).values(candidate_id=survivor))
    for conflict in list(session.scalars(select(ConflictOfInterest).where(ConflictOfInterest.candidate_id == merged))):
        if session.get(ConflictOfInterest, (conflict.jure_id, survivor)) is None:
            session.execute(update(ConflictOfInterest).where(ConflictOfInterest.jure_id == conflict.jure_id,
                                                             ConflictOfInterest.candidate_id == merged)
                            .values(candidate_id=survivor))


HANDLERS: dict[str, list[Handler]] = {
    "centre.registered": [on_centre],
    "centre.updated": [on_centre],
    "site.created": [on_site],
    "site.updated": [on_site],
    "site.closed": [on_site],
    "site.transferred": [on_site_transferred],
    "agrement.granted": [on_agrement],
    "agrement.refused": [on_agrement],
    "agrement.withdrawn": [on_agrement],
    "agrement.ended": [on_agrement],
    "candidate.registered": [on_candidate],
    "candidate.updated": [on_candidate],
    "candidate.merged": [on_candidate_merged],
    "candidate.shared": [on_candidate_shared],
}
