"""Jurés (S7): records, habilitations per titre, conflicts of interest, and the jury of a session."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ceres_shared.db import lock_for_update
from ceres_shared.errors import ApiError, Conflict, NotFound

from ..domain import rules
from ..models import ConflictOfInterest, Enrolment, ExamSession, Habilitation, Jure, JuryMember, Titre

MIN_JURES = 2


def jure_dict(j: Jure) -> dict:
    return {"id": j.id, "civilite": j.civilite, "nom": j.nom, "prenom": j.prenom, "email": j.email,
            "departement": j.departement, "region": j.region, "competences": j.competences,
            "commentaires": j.commentaires}


def get_jure(session: Session, principal, jure_id: str, *, lock: bool = False) -> Jure:
    jure = lock_for_update(session, Jure, jure_id) if lock else session.get(Jure, jure_id)
    if jure is None:
        raise NotFound("Juré introuvable.")
    if not principal.covers_location(jure.departement, jure.region):
        raise NotFound("Juré introuvable.").outside_scope("jure", jure.id)  # I4, traced
    return jure


def create_jure(session: Session, principal, data: dict, rt) -> Jure:
    if not principal.covers_location(data["departement"], data["region"]):
        raise ApiError(403, "Ce département n'est pas dans votre périmètre.", code="out_of_scope")
    jure = Jure(id=str(uuid.uuid4()), **{**data, "competences": _plain(data.get("competences") or [])})
    session.add(jure)
    session.flush()
    rt.audit.record(session, entity_type="jure", entity_id=jure.id, action="create", actor=principal.label,
                    actor_role=principal.role, after=jure_dict(jure))
    return jure


def update_jure(session: Session, principal, jure: Jure, data: dict, rt) -> Jure:
    before = jure_dict(jure)
    for key, value in data.items():
        setattr(jure, key, _plain(value) if key == "competences" else value)
    session.flush()
    rt.audit.record(session, entity_type="jure", entity_id=jure.id, action="update", actor=principal.label,
                    actor_role=principal.role, before=before, after=jure_dict(jure))
    return jure


def _plain(competences: list[dict]) -> list[dict]:
    return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in c.items()} for c in competences]


def add_habilitation(session: Session, principal, jure: Jure, data: dict, rt) -> Habilitation:
    if session.scalar(select(Titre.code).where(Titre.code == data["titre_code"]).limit(1)) is None:
        raise ApiError(422, "Certaines données sont invalides.",
                       errors={"titre_code": ["Ce titre n'est pas au catalogue."]})
    hab = Habilitation(jure_id=jure.id, **data)
    session.add(hab)
    session.flush()
    rt.audit.record(session, entity_type="jure", entity_id=jure.id, action="habilitation", actor=principal.label,
                    actor_role=principal.role, after={"habilitation": {k: str(v) for k, v in data.items()}})
    return hab


def add_conflict(session: Session, principal, jure: Jure, data: dict, rt) -> None:
    if session.get(ConflictOfInterest, (jure.id, data["candidate_id"])) is None:
        session.add(ConflictOfInterest(jure_id=jure.id, **data))
        rt.audit.record(session, entity_type="jure", entity_id=jure.id, action="conflict", actor=principal.label,
                        actor_role=principal.role, after={"conflit": data})


def habilitations_view(session: Session, jure: Jure) -> list[dict]:
    """The habilitation screen shows the original end (S7); the extension is given beside it."""
    out = []
    for hab in session.scalars(select(Habilitation).where(Habilitation.jure_id == jure.id)):
        eov = _end_of_validity(session, hab.titre_code)
        out.append({"titre_code": hab.titre_code, "valid_from": hab.valid_from, "valid_until": hab.valid_until,
                    "effective_until": rules.habilitation_effective_until(hab.valid_until, eov)})
    return out


def _end_of_validity(session: Session, titre_code: str) -> date | None:
    """The titre's end of life: its latest version's end of validity."""
    return session.scalar(select(Titre.end_of_validity).where(Titre.code == titre_code)
                          .order_by(Titre.version_date.desc()).limit(1))


def _active_candidates(session: Session, session_id: str) -> list[int]:
    return list(session.scalars(select(Enrolment.candidate_id).where(Enrolment.session_id == session_id,
                                                                       Enrolment.state != "retire")))


def check_jure(session: Session, s: ExamSession, jure: Jure) -> list[str]:
    """S7 for one juré: habilité for the titre over the whole session (with the automatic 24-month extension after
    the titre's end of validity), and no conflict of interest with the session's candidates."""
    problems = []
    first, last = rules.paris_day(s.starts_at), rules.paris_day(s.ends_at)
    eov = _end_of_validity(session, s.titre_code)
    habs = session.scalars(select(Habilitation).where(Habilitation.jure_id == jure.id,
                                                      Habilitation.titre_code == s.titre_code))
    if not any(h.valid_from <= first and rules.habilitation_effective_until(h.valid_until, eov) >= last
               for h in habs):
        problems.append(f"{jure.prenom} {jure.nom} n'est pas habilité(e) pour le titre {s.titre_code} "
                        f"sur toute la durée de la session.")
    candidates = _active_candidates(session, s.id)
    if candidates and session.scalar(select(ConflictOfInterest.candidate_id).where(
            ConflictOfInterest.jure_id == jure.id, ConflictOfInterest.candidate_id.in_(candidates)).limit(1)):
        problems.append(f"{jure.prenom} {jure.nom} a formé ou côtoyé un candidat de la session "
                        f"(conflit d'intérêts).")
    return problems


def jury_problems(session: Session, s: ExamSession) -> list[str]:
    members = list(session.scalars(select(Jure).join(JuryMember, JuryMember.jure_id == Jure.id)
                                   .where(JuryMember.session_id == s.id)))
    problems = [] if len(members) >= MIN_JURES else [
        f"Le jury doit compter au moins {MIN_JURES} jurés habilités (actuellement {len(members)})."]
    for jure in members:
        problems.extend(check_jure(session, s, jure))
    return problems


def add_to_jury(session: Session, s: ExamSession, jure: Jure) -> None:
    if session.get(JuryMember, (s.id, jure.id)) is not None:
        raise Conflict("Ce juré fait déjà partie du jury de la session.", code="already_in_jury")
    problems = check_jure(session, s, jure)
    if problems:
        raise Conflict(" ".join(problems), code="S7")
    session.add(JuryMember(session_id=s.id, jure_id=jure.id))


def remove_from_jury(session: Session, s: ExamSession, jure_id: str) -> None:
    member = session.get(JuryMember, (s.id, jure_id))
    if member is None:
        raise NotFound("Ce juré ne fait pas partie du jury de la session.")
    session.delete(member)


def jures_to_convoke(session: Session, s: ExamSession) -> list[Jure]:
    """S7: jurés habilités over the whole session (extension included), without conflict, in the session's
    région, for the list of jurés to convoke."""
    ids = select(Habilitation.jure_id).where(Habilitation.titre_code == s.titre_code)
    candidates = session.scalars(select(Jure).where(Jure.id.in_(ids), Jure.region == s.region)
                                 .order_by(Jure.nom, Jure.prenom))
    return [j for j in candidates if not check_jure(session, s, j)]


def jury_of(session: Session, session_id: str) -> list[Jure]:
    return list(session.scalars(select(Jure).join(JuryMember, JuryMember.jure_id == Jure.id)
                                .where(JuryMember.session_id == session_id).order_by(Jure.nom)))
