"""Sites (E4) and their transfer from one centre to another (E5)."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from ceres_shared.auth import Principal
from ceres_shared.errors import Conflict, Forbidden, NotFound
from ceres_shared.runtime import Runtime

from ..domain.rules import siret_error
from ..models import CENTRE_DE_REPRISE_SIRET, Site
from .access import OUT_OF_SCOPE, require_centre, require_site
from .centres import find_by_siret, get_centre
from .common import SITE_FIELDS, invalid, locate, now, site_payload, site_search_text, snapshot

SITE_NOT_FOUND = "Ce site n'existe pas dans CERES."
UNKNOWN_TARGET = "Le siret saisi ne correspond pas à un centre enregistré dans CERES"  # E5, word for word
CONCURRENT = "Ce site vient d'être modifié ou transféré par quelqu'un d'autre ; rechargez-le avant de recommencer."


def site_id_for(centre_siret: str, n: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"ceres:site:{centre_siret}:{n}"))


def get_site(session: Session, site_id: str, *, lock: bool = False) -> Site:
    query = select(Site).where(Site.id == site_id)
    site = session.scalar(query.with_for_update() if lock else query)
    if site is None:
        raise NotFound(SITE_NOT_FOUND)
    return site


def read_site(session: Session, p: Principal, site_id: str) -> Site:
    site = get_site(session, site_id)
    require_site(p, site)
    return site


def _place(site: Site, commune_code: str, code_postal: str | None) -> None:
    commune = locate(commune_code, code_postal)
    site.commune_code, site.commune_label = commune.code, commune.name
    site.departement, site.region, site.zone = commune.departement, commune.region, commune.zone
    site.code_postal = code_postal or (commune.postcodes[0] if len(commune.postcodes) == 1 else None)


def _check_siret(value: str | None) -> None:
    if value and (message := siret_error(value)):
        raise invalid("siret", message)


def create_site(rt: Runtime, session: Session, p: Principal, centre_id: str, data: dict,
                site_id: str | None = None) -> Site:
    """E4: a site of one centre; its commune decides the competent UD and DREETS, who alone may create it. The
    centre must be the caller's too (I4): an agent seeing it (its address or a site in the territory), a centre user
    of that SIRET; checked before anything is read or written, like the centre's own endpoints."""
    centre = get_centre(session, centre_id)
    require_centre(session, p, centre)
    if centre.siret == CENTRE_DE_REPRISE_SIRET and not p.national:  # it only holds sites no real centre took (E5)
        raise Forbidden("Seule l'administration nationale ajoute un site au centre de reprise : rattachez le site à "
                        "son centre.", code="reprise_national")
    _check_siret(data.get("siret"))
    at = now()
    site = Site(id=site_id or str(uuid.uuid4()), centre_id=centre.id, name=data["name"], adresse=data["adresse"],
                representant=data.get("representant"), siret=data.get("siret"), created_at=at, updated_at=at)
    _place(site, data["commune_code"], data.get("code_postal"))
    if p.is_agent and not p.covers_location(site.departement, site.region):
        raise Forbidden(OUT_OF_SCOPE, code="out_of_scope")
    site.search_text = site_search_text(site)
    session.add(site)
    session.flush()
    rt.audit.record(session, entity_type="site", entity_id=site.id, action="create", actor=p.label,
                    actor_role=p.role, after=snapshot(site, SITE_FIELDS))
    rt.outbox.record(session, "site.created", site_payload(site))
    return site


def _open_site_for_change(session: Session, p: Principal, site_id: str, expected_version: int | None) -> Site:
    site = get_site(session, site_id, lock=True)
    require_site(p, site)
    if site.closed_at is not None:
        raise Conflict(f"Ce site est fermé depuis le {site.closed_at:%d/%m/%Y}.", code="site_closed")
    if expected_version is not None and expected_version != site.version:
        raise Conflict(CONCURRENT, code="stale")
    return site


def update_site(rt: Runtime, session: Session, p: Principal, site_id: str, changes: dict,
                expected_version: int | None = None) -> Site:
    site = _open_site_for_change(session, p, site_id, expected_version)
    before = snapshot(site, SITE_FIELDS)
    if "siret" in changes:
        _check_siret(changes["siret"])
    if "commune_code" in changes or "code_postal" in changes:
        # a new commune without a postcode: the new commune's, not the old one (which would not match it)
        keep = site.code_postal if "commune_code" not in changes else None
        _place(site, changes.get("commune_code", site.commune_code), changes.get("code_postal", keep))
        if not p.covers_location(site.departement, site.region):  # moving it out of one's territory
            raise Forbidden(OUT_OF_SCOPE, code="out_of_scope")
    for field in ("name", "adresse", "representant", "siret"):
        if field in changes:
            setattr(site, field, changes[field])
    after = snapshot(site, SITE_FIELDS)
    if after == before:
        return site
    site.search_text = site_search_text(site)
    site.updated_at = now()
    _flush(session)
    rt.audit.record(session, entity_type="site", entity_id=site.id, action="update", actor=p.label,
                    actor_role=p.role, before=before, after=after)
    rt.outbox.record(session, "site.updated", site_payload(site))
    return site


def close_site(rt: Runtime, session: Session, p: Principal, site_id: str, closed_at: date | None,
               reason: str | None = None) -> Site:
    site = _open_site_for_change(session, p, site_id, None)
    before = snapshot(site, SITE_FIELDS)
    site.closed_at = closed_at or date.today()
    site.updated_at = now()
    _flush(session)
    rt.audit.record(session, entity_type="site", entity_id=site.id, action="close", actor=p.label,
                    actor_role=p.role, before=before, after=snapshot(site, SITE_FIELDS), reason=reason)
    rt.outbox.record(session, "site.closed", site_payload(site))
    return site


def _transfer_checks(session: Session, p: Principal, site: Site, siret: str):
    """E5: competence on the site's location, a target known to CERES, not the same centre, an open site."""
    require_site(p, site)
    siret = (siret or "").replace(" ", "")
    if len(siret) != 14 or not siret.isdigit():
        raise invalid("siret", "Le SIRET doit comporter 14 chiffres.")
    target = find_by_siret(session, siret)
    if target is None:
        raise NotFound(UNKNOWN_TARGET, code="target_unknown", errors={"siret": [UNKNOWN_TARGET]})
    if target.id == site.centre_id:
        raise Conflict("Le site est déjà rattaché à ce centre.", code="same_centre")
    if site.closed_at is not None:
        raise Conflict(f"Un site fermé (depuis le {site.closed_at:%d/%m/%Y}) ne peut pas être transféré.",
                       code="site_closed")
    return target


def transfer_preview(session: Session, p: Principal, site_id: str, siret: str) -> dict:
    """What the agent confirms (E5): the target's raison sociale, adresse and commune."""
    site = get_site(session, site_id)
    target = _transfer_checks(session, p, site, siret)
    return {"site": site, "from_centre": site.centre, "to_centre": target, "site_version": site.version,
            "agrements": list(site.agrements)}


def transfer_site(rt: Runtime, session: Session, p: Principal, site_id: str, siret: str,
                  expected_version: int | None) -> Site:
    """E5: the site moves with all its agréments in one transaction (row lock + version against a concurrent
    transfer); `site.transferred` tells sessions (which moves the sessions) and identity."""
    site = get_site(session, site_id, lock=True)
    target = _transfer_checks(session, p, site, siret)
    if expected_version is not None and expected_version != site.version:
        raise Conflict(CONCURRENT, code="stale")
    source = site.centre
    before = snapshot(site, SITE_FIELDS)
    at = now()
    site.centre_id, site.centre = target.id, target
    site.updated_at = at
    _flush(session)
    agrement_ids = [a.id for a in site.agrements]
    reason = f"Transfert de {source.siret} ({source.raison_sociale}) vers {target.siret} ({target.raison_sociale})"
    rt.audit.record(session, entity_type="site", entity_id=site.id, action="transfer", actor=p.label,
                    actor_role=p.role, before=before, after=snapshot(site, SITE_FIELDS), reason=reason)
    for agrement_id in agrement_ids:
        rt.audit.record(session, entity_type="agrement", entity_id=agrement_id, action="transfer", actor=p.label,
                        actor_role=p.role, before={"centre_id": source.id}, after={"centre_id": target.id},
                        reason=reason)
    rt.outbox.record(session, "site.transferred", {
        "site_id": site.id, "from_centre_id": source.id, "to_centre_id": target.id, "agrement_ids": agrement_ids,
        "by": p.label, "at": at.isoformat(),
    })
    return site


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:  # the version column moved under us
        session.rollback()
        raise Conflict(CONCURRENT, code="stale") from exc
