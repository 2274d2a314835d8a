"""Candidate records: create (with the duplicate check, C1), update a draft, validate (C5), reopen (C4), read
(traced), export (GDPR). Each use case checks scope, writes the audit entry and the events in its transaction."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ceres_shared.audit import refusal
from ceres_shared.auth import Principal
from ceres_shared.errors import ApiError, Conflict, Forbidden, NotFound
from ceres_shared.openapi import rfc3339

from ..domain.checks import birth_date_problem, validation_problems
from ..domain.names import dedup_key, given_names_key, name_key, phonetic
from ..domain.places import resolve_address, resolve_birth_place
from ..models import DRAFT, VALIDATED, Candidate, Document, Enrolment
from . import access, grants
from .duplicates import find_duplicates, present

ENTITY = "candidate"
IDENTITY_FIELDS = ("genre", "nom_naissance", "nom_usage", "prenoms", "birth_date", "birth_country_code",
                   "birth_commune_code")
PLAIN_FIELDS = ("email", "phone", "formation", "emploi", "vae")
AUDITED = (
    "status", "genre", "nom_naissance", "nom_usage", "prenoms", "birth_date", "birth_country_code",
    "birth_country_label", "birth_commune_code", "birth_commune_label", "address_lines", "address_code_postal",
    "address_commune_code", "address_commune_label", "address_country", "email", "phone", "formation", "emploi",
    "vae", "merged_into", "duplicate_reason",
)


def now() -> datetime:
    return datetime.now(timezone.utc)


def snapshot(c: Candidate) -> dict:
    return {f: getattr(c, f) for f in AUDITED}


def event_payload(c: Candidate) -> dict:
    """CandidatePayload: what sessions and printing keep of a person (birth commune named as on the birth date)."""
    address = None
    if c.address_lines:
        address = {"lines": list(c.address_lines), "code_postal": c.address_code_postal,
                   "commune_code": c.address_commune_code, "commune_label": c.address_commune_label,
                   "country": c.address_country or "FRANCE"}
    return {
        "candidate_id": c.id, "genre": c.genre, "nom_naissance": c.nom_naissance, "nom_usage": c.nom_usage,
        "prenoms": list(c.prenoms), "birth_date": c.birth_date.isoformat(),
        "birth_country_code": c.birth_country_code, "birth_country_label": c.birth_country_label,
        "birth_commune_code": c.birth_commune_code, "birth_commune_label": c.birth_commune_label,
        "address": address,
    }


def _apply_keys(c: Candidate) -> None:
    c.nom_key = name_key(c.nom_naissance)
    c.usage_key = name_key(c.nom_usage) or None
    c.prenoms_key = given_names_key(c.prenoms)
    c.nom_phon = phonetic(c.nom_naissance)
    c.dedup_key = dedup_key(c.nom_naissance, c.prenoms)


def _apply_places(ref, c: Candidate, data: dict, *, address_given: bool) -> None:
    """Birth place as of the birth date, address as of today (C3); every problem on its field, nothing written."""
    errors: dict = {}
    problem = birth_date_problem(c.birth_date)
    if problem and c.birth_date > date.today():  # an impossible date is refused even in a draft
        errors["birth_date"] = [problem]
    place, place_errors = resolve_birth_place(ref, c.birth_date, c.birth_country_code, c.birth_commune_code)
    errors.update(place_errors)
    address = None
    if address_given:
        address, address_errors = resolve_address(ref, data.get("address"))
        errors.update(address_errors)
    if errors:
        raise ApiError(422, "Certaines données sont invalides.", errors=errors, code="invalid")
    c.birth_country_code, c.birth_country_label = place.country_code, place.country_label
    c.birth_commune_code, c.birth_commune_label = place.commune_code, place.commune_label
    c.birth_departement = place.departement
    if address_given:
        c.address_lines = address.lines if address else None
        c.address_code_postal = address.code_postal if address else None
        c.address_commune_code = address.commune_code if address else None
        c.address_commune_label = address.commune_label if address else None
        c.address_country = address.country if address else None
        c.address_departement = address.departement if address else None
        c.address_region = address.region if address else None


def _creator_siret(principal: Principal, requested: str | None) -> str | None:
    if principal.role not in ("centre", "gestionnaire"):
        return None
    if requested:
        if requested not in principal.sirets:
            raise Forbidden("Vous ne pouvez pas créer de candidat pour ce centre.")
        return requested
    if len(principal.sirets) == 1:
        return next(iter(principal.sirets))
    raise ApiError(422, "Certaines données sont invalides.", code="invalid",
                   errors={"centre_siret": ["Précisez le SIRET du centre qui inscrit le candidat."]})


def create(session: Session, rt, ref, principal: Principal, data: dict) -> Candidate:
    """C1 + C2: a new record in draft, unless the person is likely already in CERES (409 with the records found);
    an agent may still create it by giving a reason, which is kept on the record and in the trace."""
    reason = (data.get("duplicate_reason") or "").strip() or None
    if reason and not principal.is_agent:
        raise Forbidden("Seul un agent peut créer un dossier malgré un doublon probable.")
    c = Candidate(status=DRAFT, vae=bool(data.get("vae")))
    for field in IDENTITY_FIELDS:
        setattr(c, field, data.get(field))
    c.birth_country_code = data.get("birth_country_code") or "99100"
    for field in PLAIN_FIELDS:
        if field in data:
            setattr(c, field, data[field])
    _apply_places(ref, c, data, address_given="address" in data)
    _apply_keys(c)
    c.created_by_siret = _creator_siret(principal, data.get("centre_siret"))
    typed = {"nom_naissance": c.nom_naissance, "nom_usage": c.nom_usage, "prenoms": c.prenoms,
             "birth_date": c.birth_date, "birth_country_code": c.birth_country_code,
             "birth_commune_code": c.birth_commune_code}
    matches = find_duplicates(session, **typed)
    if matches and not reason:
        found = present(session, rt, principal, matches, typed)  # I4: strangers masked (M1)
        session.commit()  # nothing is created, but an exact match's grant is kept (the centre may enrol it)
        raise Conflict(
            "Cette personne semble déjà enregistrée dans CERES : utilisez le dossier existant "
            "(un même dossier sert tout au long du parcours).",
            code="probable_duplicate", duplicates=found,
        )
    c.duplicate_reason = reason if matches else None
    c.created_by = principal.label
    c.created_at = c.updated_at = now()
    session.add(c)
    session.flush()  # the CERES id, from the sequence
    rt.audit.record(session, entity_type=ENTITY, entity_id=str(c.id), action="create", actor=principal.label,
                    actor_role=principal.role, before=None, after=snapshot(c),
                    reason=(f"Doublon probable de {', '.join(str(m.row.id) for m in matches)} : {reason}"
                            if matches else None))
    rt.outbox.record(session, "candidate.registered", event_payload(c))
    if c.created_by_siret:  # I4: its creator may enrol it (the sessions service is told)
        grants.share(session, rt, c.id, c.created_by_siret, "created")
    return c


def load(session: Session, principal: Principal, candidate_id: int, *, for_update: bool = False) -> Candidate:
    """The record if the principal may see it; 404 otherwise (its existence is not revealed)."""
    query = select(Candidate).where(Candidate.id == candidate_id, access.visible(principal))
    if for_update:
        query = query.with_for_update()
    c = session.execute(query).scalar_one_or_none()
    if c is None:  # I4: a real record out of scope is traced
        raise refusal(session, Candidate, candidate_id, ENTITY,
                      NotFound("Ce candidat n'existe pas ou n'est pas dans votre périmètre."))
    return c


def _editable(c: Candidate) -> None:
    if c.merged_into is not None:
        raise Conflict(f"Ce dossier a été fusionné dans le dossier n° {c.merged_into}.", code="merged",
                       merged_into=c.merged_into)
    if c.status == VALIDATED:  # C4
        raise Conflict("Le dossier est validé : revenez à l'état brouillon pour le modifier.", code="validated")


def update(session: Session, rt, ref, principal: Principal, candidate_id: int, data: dict) -> Candidate:
    """C4: only a draft changes. An address change after printing (P7) is such an update; its event reaches
    printing."""
    c = load(session, principal, candidate_id, for_update=True)
    _editable(c)
    before = snapshot(c)
    for field in IDENTITY_FIELDS + PLAIN_FIELDS:
        if field in data:
            setattr(c, field, data[field])
    if "birth_country_code" in data and data["birth_country_code"] != "99100" and "birth_commune_code" not in data:
        c.birth_commune_code = None
    _apply_places(ref, c, data, address_given="address" in data)
    _apply_keys(c)
    after = snapshot(c)
    if after == before:
        return c
    c.updated_at = now()
    rt.audit.record(session, entity_type=ENTITY, entity_id=str(c.id), action="update", actor=principal.label,
                    actor_role=principal.role, before=before, after=after)
    rt.outbox.record(session, "candidate.updated", event_payload(c))
    return c


def validate(session: Session, rt, principal: Principal, candidate_id: int) -> Candidate:
    """C4/C5: every problem answered on its field; a validated record is read-only."""
    c = load(session, principal, candidate_id, for_update=True)
    _editable(c)
    problems = validation_problems({f: getattr(c, f) for f in (
        "birth_date", "nom_naissance", "nom_usage", "prenoms", "birth_country_code", "birth_commune_code",
        "address_lines", "address_code_postal")})
    if problems:
        raise ApiError(422, "Le dossier ne peut pas être validé : corrigez les champs signalés.",
                       errors=problems, code="validation_failed")
    before = snapshot(c)
    c.status, c.validated_at, c.validated_by, c.updated_at = VALIDATED, now(), principal.label, now()
    rt.audit.record(session, entity_type=ENTITY, entity_id=str(c.id), action="validate", actor=principal.label,
                    actor_role=principal.role, before=before, after=snapshot(c))
    return c


def reopen(session: Session, rt, principal: Principal, candidate_id: int) -> Candidate:
    """C4: « revenir à l'état brouillon »."""
    c = load(session, principal, candidate_id, for_update=True)
    if c.merged_into is not None:
        raise Conflict(f"Ce dossier a été fusionné dans le dossier n° {c.merged_into}.", code="merged")
    if c.status == DRAFT:
        raise Conflict("Le dossier est déjà à l'état brouillon.", code="already_draft")
    before = snapshot(c)
    c.status, c.updated_at = DRAFT, now()
    rt.audit.record(session, entity_type=ENTITY, entity_id=str(c.id), action="reopen", actor=principal.label,
                    actor_role=principal.role, before=before, after=snapshot(c))
    return c


def record_read(session: Session, rt, principal: Principal, c: Candidate, action: str = "read") -> None:
    """Reads of a person's record are traced too (who looked at whom, when)."""
    rt.audit.record(session, entity_type=ENTITY, entity_id=str(c.id), action=action, actor=principal.label,
                    actor_role=principal.role)


def merged_ids(session: Session, candidate_id: int) -> list[int]:
    """This id and every id merged into it, directly or through another merge."""
    ids, frontier = [candidate_id], [candidate_id]
    while frontier:
        frontier = list(session.scalars(select(Candidate.id).where(Candidate.merged_into.in_(frontier))))
        ids.extend(frontier)
    return ids


def certification_path(session: Session, candidate_id: int, titre_labels: dict) -> dict:
    """Every session entered, CCPs and titres obtained (from the sessions service's events)."""
    rows = session.scalars(
        select(Enrolment).where(Enrolment.candidate_id == candidate_id).order_by(Enrolment.starts_at, Enrolment.id)
    ).all()
    sessions, titres, ccps = [], [], []
    for e in rows:
        label = titre_labels.get((e.titre_code, e.titre_version))
        sessions.append({
            "session_id": e.session_id, "public_id": e.public_id, "titre_code": e.titre_code,
            "titre_version": e.titre_version.isoformat() if e.titre_version else None, "titre_libelle": label,
            "status": e.status, "starts_at": rfc3339(e.starts_at),
            "ends_at": rfc3339(e.ends_at), "enrolled": e.enrolled,
            "decision": e.decision, "ccps_obtained": list(e.ccps_obtained or []),
            "recorded_for_candidate": e.first_candidate_id,
        })
        if e.decision == "titre":
            titres.append({"titre_code": e.titre_code, "titre_libelle": label, "session_id": e.session_id,
                           "validated_at": rfc3339(e.validated_at)})
        for ccp in e.ccps_obtained or []:
            ccps.append({"ccp": ccp, "titre_code": e.titre_code, "session_id": e.session_id})
    documents = [
        {"document_number": d.document_number, "document_type": d.document_type, "status": d.status,
         "session_id": d.session_id, "updated_at": rfc3339(d.updated_at)}
        for d in session.scalars(select(Document).where(Document.candidate_id == candidate_id)
                                 .order_by(Document.updated_at))
    ]
    return {"sessions": sessions, "titres_obtenus": titres, "ccps_obtenus": ccps, "documents": documents}
