"""Transactional outbox: events are rows written in the same transaction as the change they announce."""
from __future__ import annotations

import threading

from sqlalchemy import event as sa_event, insert, text
from sqlalchemy.orm import Session

from . import correlation
from .events import Envelope, make_envelope
from .platform_tables import PlatformTables

NOTIFY_CHANNEL = "ceres_outbox"


class Outbox:
    def __init__(self, service: str, tables: PlatformTables):
        self.service = service
        self.table = tables.outbox
        # Wakes a relay living in the same process (embedded mode); PostgreSQL relays use LISTEN/NOTIFY.
        self.wakeup = threading.Event()
        self._insert = insert(self.table)

    def record(self, session: Session, event_type: str, payload: dict, *, version: int = 1) -> Envelope:
        """Add an event to the session's transaction; it is published only if the transaction commits."""
        return self.record_many(session, [(event_type, payload, version)])[0]

    def record_many(self, session: Session, events: list[tuple[str, dict, int]]) -> list[Envelope]:
        """Several events in one statement: (type, payload, version) each, in order."""
        cid = correlation.get()
        envs = [make_envelope(t, p, producer=self.service, version=v, correlation_id=cid) for t, p, v in events]
        session.execute(
            self._insert, [{"event_id": e.id, "event_type": e.type, "body": e.to_json()} for e in envs]
        )
        self._notify_on_commit(session)
        return envs

    def _notify_on_commit(self, session: Session) -> None:
        if session.info.get("ceres_outbox_notify"):
            return
        session.info["ceres_outbox_notify"] = True
        if session.get_bind().dialect.name == "postgresql":
            # Delivered by PostgreSQL only when the transaction commits.
            session.execute(text("SELECT pg_notify(:c, '')"), {"c": NOTIFY_CHANNEL})

        def after_commit(sess):
            sess.info.pop("ceres_outbox_notify", None)
            self.wakeup.set()

        def after_rollback(sess):
            sess.info.pop("ceres_outbox_notify", None)

        sa_event.listen(session, "after_commit", after_commit, once=True)
        sa_event.listen(session, "after_soft_rollback", lambda s, _t: after_rollback(s), once=True)
