"""Who consumes which events (../shared/architecture.md, "Events").

Publishers declare every queue and binding listed here before publishing, so an event published before its
consumer first starts is kept, not dropped. A consumer may only handle what this map gives it.
"""
from __future__ import annotations

SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "establishments": ("titre.published", "titre.updated"),
    "identity": ("centre.registered", "centre.updated", "site.transferred"),
    "sessions": (
        "centre.registered",
        "centre.updated",
        "site.created",
        "site.updated",
        "site.closed",
        "site.transferred",
        "agrement.granted",
        "agrement.refused",
        "agrement.withdrawn",
        "agrement.ended",
        "candidate.registered",
        "candidate.updated",
        "candidate.merged",
        "candidate.shared",
    ),
    "candidates": (
        "centre.registered",
        "centre.updated",
        "site.created",
        "site.updated",
        "site.closed",
        "titre.published",
        "titre.updated",
        "session.created",
        "session.status_changed",
        "session.postponed",
        "session.cancelled",
        "session.enrolment_changed",
        "session.validated",
        "print.requested",
        "print.batch_ready",
        "print.document_status",
    ),
    "printing": (
        "site.created",
        "site.updated",
        "site.closed",
        "titre.published",
        "titre.updated",
        "candidate.registered",
        "candidate.updated",
        "candidate.merged",
        "session.validated",
    ),
}


def subscriptions(overrides: dict[str, tuple[str, ...]] | None = None) -> dict[str, tuple[str, ...]]:
    merged = dict(SUBSCRIPTIONS)
    merged.update(overrides or {})
    return merged
