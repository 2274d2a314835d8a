"""Events the establishments service consumes: the titres catalogue from the sessions service (local copy)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy.orm import Session

from ceres_shared.bus.consumer import Handler

from .models import Titre


def upsert_titre(session: Session, envelope) -> None:
    """titre.published / titre.updated -> the row of (code, version); a later event overwrites."""
    p = envelope.payload
    version = p["version_date"] if isinstance(p["version_date"], date) else date.fromisoformat(p["version_date"])
    end = p.get("end_of_validity")
    end = date.fromisoformat(end) if isinstance(end, str) else end
    titre = session.get(Titre, (p["code"], version)) or Titre(code=p["code"], version_date=version)
    titre.libelle, titre.kind, titre.end_of_validity = p["libelle"], p["kind"], end
    titre.ccs_of = p.get("ccs_of")
    titre.updated_at = datetime.now(timezone.utc)
    session.add(titre)


HANDLERS: dict[str, list[Handler]] = {"titre.published": [upsert_titre], "titre.updated": [upsert_titre]}
