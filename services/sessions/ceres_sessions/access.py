"""Who may read the history of which record (I4): the trail says as much as the record itself."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import ExamSession, Jure
from .service_layer.sessions import scope_clause


def history_access(session: Session, principal, entity_type: str, entity_id: str) -> bool:
    if entity_type == "session":
        return session.scalar(select(ExamSession.id).where(ExamSession.id == entity_id,
                                                           scope_clause(principal))) is not None
    if entity_type == "jure":
        jure = session.get(Jure, entity_id)
        return jure is not None and principal.covers_location(jure.departement, jure.region)
    if entity_type == "titre":  # the catalogue is the same for everyone
        return True
    return False  # relaxations, mass operations: national agents only (checked before)
