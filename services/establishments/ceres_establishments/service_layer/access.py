"""Scope of a principal over centres and sites (I4): agents by territory, centre users by SIRET."""
from __future__ import annotations

from sqlalchemy import and_, exists, false, or_, select, true
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.errors import Forbidden

from ..models import Centre, Site

OUT_OF_SCOPE = "Ce site ou ce centre est hors de votre périmètre."


def covers_site(p: Principal, site: Site) -> bool:
    """Agents: the site's own location (E4, E5), whatever the centre's address. Centre users: their centre."""
    if p.is_agent:
        return p.covers_location(site.departement, site.region)
    return p.covers_siret(site.centre.siret)


def covers_centre(session: Session, p: Principal, centre: Centre) -> bool:
    """Agents: the centre's address or one of its sites in their territory. Centre users: their SIRETs."""
    if not p.is_agent:
        return p.covers_siret(centre.siret)
    if p.covers_location(centre.departement, centre.region):
        return True
    return bool(session.scalar(select(exists().where(Site.centre_id == centre.id, site_filter(p)))))


def require_site(p: Principal, site: Site) -> None:
    if not covers_site(p, site):
        raise Forbidden(OUT_OF_SCOPE, code="out_of_scope").outside_scope("site", site.id)  # traced


def require_centre(session: Session, p: Principal, centre: Centre) -> None:
    if not covers_centre(session, p, centre):
        raise Forbidden(OUT_OF_SCOPE, code="out_of_scope").outside_scope("centre", centre.id)  # traced


def _territory(p: Principal, table) -> object:
    if p.national:
        return true()
    parts = []
    if p.departements:
        parts.append(table.departement.in_(sorted(p.departements)))
    if p.regions:
        parts.append(table.region.in_(sorted(p.regions)))
    return or_(*parts) if parts else false()


def site_filter(p: Principal):
    """SQL condition: the sites the principal may see."""
    if p.is_agent:
        return _territory(p, Site)
    if not p.sirets:
        return false()
    return Site.centre_id.in_(select(Centre.id).where(Centre.siret.in_(sorted(p.sirets))))


def centre_filter(p: Principal):
    """SQL condition: the centres the principal may see."""
    if p.is_agent:
        if p.national:
            return true()
        # IN rather than a correlated EXISTS: PostgreSQL hashes the territory's sites once instead of probing per centre
        return or_(_territory(p, Centre), Centre.id.in_(select(Site.centre_id).where(_territory(p, Site))))
    return Centre.siret.in_(sorted(p.sirets)) if p.sirets else false()
