"""Centres: registration by SIRET through the company register (E1, E2) and the centre record (E3)."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.communes import Referential
from ceres_shared.errors import ApiError, Conflict, Forbidden, NotFound
from ceres_shared.runtime import Runtime

from ..adapters.company_register import CompanyRecord, RegisterBadResponse, RegisterUnavailable
from ..domain.rules import siret_error
from ..models import CENTRE_DE_REPRISE_SIRET, Centre
from .access import require_centre
from .common import CENTRE_FIELDS, centre_payload, centre_search_text, invalid, locate, now, snapshot

CENTRE_NOT_FOUND = "Ce centre n'existe pas dans CERES."


def centre_id_for(siret: str) -> str:
    """Deterministic ids (the demo and the other services agree on them without asking)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ceres:centre:{siret}"))


def get_centre(session: Session, centre_id: str, *, lock: bool = False) -> Centre:
    query = select(Centre).where(Centre.id == centre_id)
    centre = session.scalar(query.with_for_update() if lock else query)
    if centre is None:
        raise NotFound(CENTRE_NOT_FOUND)
    return centre


def find_by_siret(session: Session, siret: str) -> Centre | None:
    return session.scalar(select(Centre).where(Centre.siret == siret))


def read_centre(session: Session, p: Principal, centre_id: str) -> Centre:
    centre = get_centre(session, centre_id)
    require_centre(session, p, centre)
    return centre


def lookup_company(register, session: Session, siret: str) -> CompanyRecord:
    """E2: what the register says of a SIRET not yet in CERES. Errors: invalid SIRET (422), already registered
    (409), unknown (404), register down (503) or unreadable (502)."""
    siret = (siret or "").replace(" ", "")
    if message := siret_error(siret):
        raise invalid("siret", message)
    existing = find_by_siret(session, siret)
    if existing is not None:
        raise Conflict(f"Ce SIRET est déjà enregistré dans CERES ({existing.raison_sociale}).", code="siret_taken",
                       centre_id=existing.id)
    try:
        record = register.find(siret)
    except RegisterUnavailable as exc:
        raise ApiError(503, "Le répertoire des entreprises (API Recherche d'entreprises) ne répond pas ; "
                            "réessayez dans quelques minutes.", code="register_unavailable") from exc
    except RegisterBadResponse as exc:
        raise ApiError(502, "Le répertoire des entreprises a renvoyé une réponse illisible ; réessayez plus tard.",
                       code="register_bad_response") from exc
    if record is None:
        raise NotFound("Aucun établissement ne correspond à ce SIRET dans le répertoire des entreprises.",
                       code="siret_unknown")
    return record


def register_centre(rt: Runtime, register, session: Session, p: Principal, siret: str, extra: dict) -> Centre:
    """E2: create the centre from the register's data; nothing is created on any error."""
    record = lookup_company(register, session, siret)
    commune = Referential.load().get(record.commune_code) if record.commune_code else None
    at = now()
    centre = Centre(
        id=centre_id_for(record.siret), siret=record.siret, siren=record.siren,
        raison_sociale=record.raison_sociale[:250], adresse=record.adresse[:300], code_postal=record.code_postal,
        commune_code=record.commune_code, commune_label=commune.name if commune else record.commune_label,
        departement=commune.departement if commune else None, region=commune.region if commune else None,
        type_centre=extra.get("type_centre"), reseau=extra.get("reseau"),
        representant=extra.get("representant"), commentaires=extra.get("commentaires"),
        created_at=at, updated_at=at,
    )
    centre.search_text = centre_search_text(centre)
    session.add(centre)
    try:
        session.flush()
    except IntegrityError as exc:  # registered by someone else in the meantime
        session.rollback()
        raise Conflict("Ce SIRET est déjà enregistré dans CERES.", code="siret_taken") from exc
    rt.audit.record(session, entity_type="centre", entity_id=centre.id, action="register", actor=p.label,
                    actor_role=p.role, after=snapshot(centre, CENTRE_FIELDS))
    rt.outbox.record(session, "centre.registered", centre_payload(centre))
    return centre


def update_centre(rt: Runtime, session: Session, p: Principal, centre_id: str, changes: dict,
                  expected_version: int | None = None) -> Centre:
    """E3: every field of the record, editable afterwards by a competent agent, traced."""
    centre = get_centre(session, centre_id, lock=True)
    require_centre(session, p, centre)
    if centre.siret == CENTRE_DE_REPRISE_SIRET and not p.national:
        raise Forbidden("Seule l'administration nationale modifie le centre de reprise.", code="reprise_national")
    if expected_version is not None and expected_version != centre.version:
        raise Conflict("Ce centre vient d'être modifié par quelqu'un d'autre ; rechargez-le.", code="stale")
    before = snapshot(centre, CENTRE_FIELDS)
    if "siret" in changes and changes["siret"] != centre.siret:
        new = changes["siret"]
        if centre.siret == CENTRE_DE_REPRISE_SIRET:
            raise Conflict("Le SIRET du centre de reprise ne change pas.")
        if message := siret_error(new):
            raise invalid("siret", message)
        if find_by_siret(session, new) is not None:
            raise Conflict("Ce SIRET est déjà enregistré dans CERES.", code="siret_taken")
        centre.siret, centre.siren = new, new[:9]
    if "commune_code" in changes:
        commune = locate(changes["commune_code"], changes.get("code_postal", centre.code_postal))
        centre.commune_code, centre.commune_label = commune.code, commune.name
        centre.departement, centre.region = commune.departement, commune.region
    elif changes.get("code_postal") and centre.commune_code:
        locate(centre.commune_code, changes["code_postal"])
    for field in ("raison_sociale", "adresse", "code_postal", "type_centre", "reseau", "representant",
                  "commentaires"):
        if field in changes:
            setattr(centre, field, changes[field])
    after = snapshot(centre, CENTRE_FIELDS)
    if after == before:
        return centre
    centre.search_text = centre_search_text(centre)
    centre.updated_at = now()
    session.flush()
    rt.audit.record(session, entity_type="centre", entity_id=centre.id, action="update", actor=p.label,
                    actor_role=p.role, before=before, after=after)
    rt.outbox.record(session, "centre.updated", centre_payload(centre))
    return centre
