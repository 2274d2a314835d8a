"""Events the identity service consumes: event type -> handlers (each runs inside the inbox transaction).

The handlers need the runtime (code sealing, audit): `bind(runtime)` gives them it, once, at bootstrap.
"""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from ceres_shared.bus.consumer import Handler
from ceres_shared.events import Envelope

from .service_layer.centres import upsert_centre

log = logging.getLogger(__name__)


def bind(runtime) -> dict[str, list[Handler]]:
    def on_centre(session: Session, envelope: Envelope) -> None:
        # E3: a registered centre gets its activation code; an update refreshes the copy (and the location
        # that decides which agents may print its letter, I4).
        upsert_centre(runtime, session, envelope.payload)

    def on_site_transferred(session: Session, envelope: Envelope) -> None:
        # Memberships are per centre, not per site: nothing changes here (E5: the agent may then send the
        # target centre its activation code from the letter endpoint).
        log.info("site %s transferred to centre %s", envelope.payload["site_id"], envelope.payload["to_centre_id"])

    return {"centre.registered": [on_centre], "centre.updated": [on_centre],
            "site.transferred": [on_site_transferred]}


HANDLERS: dict[str, list[Handler]] = {}  # filled per runtime by bootstrap (see bind)
