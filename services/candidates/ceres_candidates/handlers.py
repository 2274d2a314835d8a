"""Events the candidates service consumes: event type -> handlers (each runs inside the inbox transaction)."""
from __future__ import annotations

from ceres_shared.bus.consumer import Handler
from ceres_shared.events import contract_for

from .service_layer import projections


def _typed(fn):
    """Envelopes carry JSON; the projection gets dates and datetimes, loaded by the event's own contract."""

    def handle(session, envelope):
        payload = contract_for(envelope.type, envelope.version)().load(envelope.payload)
        fn(session, payload)

    handle.__name__ = fn.__name__
    return handle


HANDLERS: dict[str, list[Handler]] = {
    **{t: [_typed(projections.session_changed)] for t in (
        "session.created", "session.status_changed", "session.postponed", "session.cancelled")},
    "session.enrolment_changed": [_typed(projections.enrolment_changed)],
    "session.validated": [_typed(projections.session_validated)],
    **{t: [_typed(projections.document_changed)] for t in (
        "print.requested", "print.batch_ready", "print.document_status")},
    **{t: [_typed(projections.centre_changed)] for t in ("centre.registered", "centre.updated")},
    **{t: [_typed(projections.site_changed)] for t in ("site.created", "site.updated", "site.closed")},
    **{t: [_typed(projections.titre_changed)] for t in ("titre.published", "titre.updated")},
}
