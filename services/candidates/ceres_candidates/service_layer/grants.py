"""Which centres may enrol a person (I4, C1). A centre may enrol the records it created and those its duplicate
check matched exactly (it typed the whole identity: it learns only the number). The sessions service keeps a copy
of these grants (`candidate.shared`) and refuses any other enrolment by a centre. A grant does not open the record:
the centre reads it once the person is enrolled in one of its sessions (access.py)."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from ..models import CandidateGrant


def share(session: Session, rt, candidate_id: int, siret: str, reason: str) -> None:
    """Record the grant once and tell the sessions service, in the caller's transaction."""
    if session.get(CandidateGrant, (candidate_id, siret)) is not None:
        return
    session.add(CandidateGrant(candidate_id=candidate_id, siret=siret, reason=reason,
                               granted_at=datetime.now(timezone.utc)))
    rt.outbox.record(session, "candidate.shared", {"candidate_id": candidate_id, "siret": siret, "reason": reason})
