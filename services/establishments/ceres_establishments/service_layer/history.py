"""Who may read a record's trail through /history (I4): whoever may see the centre, site or agrément."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ceres_shared.auth import Principal

from ..models import Agrement, Centre, Site
from .access import covers_centre, covers_site


def history_access(session: Session, principal: Principal, entity_type: str, entity_id: str) -> bool:
    if entity_type == "centre":
        centre = session.get(Centre, entity_id)
        return centre is not None and covers_centre(session, principal, centre)
    if entity_type == "site":
        site = session.get(Site, entity_id)
        return site is not None and covers_site(principal, site)
    if entity_type == "agrement":
        agrement = session.get(Agrement, entity_id)
        site = session.get(Site, agrement.site_id) if agrement is not None else None
        return site is not None and covers_site(principal, site)
    return False
