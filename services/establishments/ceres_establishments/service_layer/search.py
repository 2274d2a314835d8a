"""E6: one search box — a SIRET, a SIREN (all its establishments) or words of a name or commune, accents and case
ignored — over centres and sites, counted per type, a page at a time, within the caller's scope."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ceres_shared.auth import Principal
from ceres_shared.communes import normalise

from ..models import Centre, Site
from .access import centre_filter, site_filter
from .common import invalid

TYPES = ("CENTRE", "SITE")


@dataclass
class SearchResult:
    kind: str  # siret, siren, words
    counts: dict[str, int]
    centres: list
    sites: list  # (Site, Centre) pairs


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(text: str):
    compact = "".join(text.split())
    if compact.isdigit() and len(compact) == 14:
        owner = select(Centre.id).where(Centre.siret == compact).scalar_subquery()
        return "siret", Centre.siret == compact, or_(Site.siret == compact, Site.centre_id == owner)
    if compact.isdigit() and len(compact) == 9:
        owners = select(Centre.id).where(Centre.siren == compact)
        # a range rather than LIKE 'siren%': the btree index serves it whatever the database's collation
        own_siret = Site.siret.between(compact + "00000", compact + "99999")
        return "siren", Centre.siren == compact, or_(own_siret, Site.centre_id.in_(owners))
    words = normalise(text).split()
    if not words:
        raise invalid("q", "Saisissez un SIRET, un SIREN ou des mots du nom ou de la commune.")
    return (
        "words",
        and_(*(Centre.search_text.like(_like(w), escape="\\") for w in words)),
        and_(*(Site.search_text.like(_like(w), escape="\\") for w in words)),
    )


def search(session: Session, p: Principal, text: str, *, kind: str | None = None, page: int = 1,
           per_page: int = 20) -> SearchResult:
    how, centre_cond, site_cond = _conditions(text)
    centre_where = and_(centre_cond, centre_filter(p))
    site_where = and_(site_cond, site_filter(p))
    counts = {
        "CENTRE": session.scalar(select(func.count()).select_from(Centre).where(centre_where)) or 0,
        "SITE": session.scalar(select(func.count()).select_from(Site).where(site_where)) or 0,
    }
    offset = (page - 1) * per_page
    centres, sites = [], []
    if kind in (None, "CENTRE") and counts["CENTRE"] > offset:
        centres = list(session.scalars(
            select(Centre).where(centre_where).order_by(Centre.raison_sociale, Centre.id)
            .offset(offset).limit(per_page)))
    if kind in (None, "SITE") and counts["SITE"] > offset:
        sites = list(session.execute(
            select(Site, Centre).join(Centre, Site.centre_id == Centre.id).where(site_where)
            .order_by(Site.name, Site.id).offset(offset).limit(per_page)))
    return SearchResult(how, counts, centres, sites)
