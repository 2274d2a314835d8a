"""Who may read a record's trail through /history (I4): agents whose territory holds the session's site.
Batches and documents are national matters (Afpa and DGEFP), readable by national agents only."""
from __future__ import annotations

from sqlalchemy.orm import Session

from ceres_shared.auth import Principal

from .models import ValidatedSession


def history_access(session: Session, principal: Principal, entity_type: str, entity_id: str) -> bool:
    if entity_type == "session":
        session_id = entity_id
    elif entity_type == "candidacy":
        session_id = entity_id.rsplit(":", 1)[0]
    else:
        return False
    validated = session.get(ValidatedSession, session_id)
    return validated is not None and principal.covers_location(validated.departement, validated.region)
