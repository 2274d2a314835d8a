"""The outbox relay: publishes committed outbox rows with confirms, then marks them sent.

A crash after publishing and before marking sends those events again on restart; consumers drop the copies
through their inbox. Several relays may run: rows are claimed with SKIP LOCKED on PostgreSQL.
"""
from __future__ import annotations

import logging
import select
import threading
from datetime import datetime, timezone

from sqlalchemy import select as sa_select, update
from sqlalchemy.engine import Engine

from ..config import BusSettings
from ..metrics import BUS_PUBLISHED, OUTBOX_BACKLOG
from ..outbox import NOTIFY_CHANNEL, Outbox
from .publisher import OutgoingMessage, Publisher, PublishError

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        engine: Engine,
        outbox: Outbox,
        bus: BusSettings,
        subscriptions: dict[str, tuple[str, ...]],
        batch_size: int = 500,
        idle_poll: float = 1.0,
    ):
        self.engine = engine
        self.outbox = outbox
        self.table = outbox.table
        self.publisher = Publisher(bus, subscriptions)
        self.batch_size = batch_size
        self.idle_poll = idle_poll
        self.stopping = threading.Event()
        self._listen_conn = None

    def publish_pending(self) -> int:
        """One pass: publish up to batch_size unsent events. Returns how many were published."""
        t = self.table
        with self.engine.begin() as conn:
            query = (
                sa_select(t.c.id, t.c.event_id, t.c.event_type, t.c.body)
                .where(t.c.published_at.is_(None))
                .order_by(t.c.id)
                .limit(self.batch_size)
            )
            if self.engine.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            if not rows:
                return 0
            messages = [
                OutgoingMessage(event_id=r.event_id, routing_key=r.event_type, body=r.body) for r in rows
            ]
            try:
                self.publisher.publish(messages)
            except PublishError as exc:
                conn.execute(
                    update(t)
                    .where(t.c.id.in_([r.id for r in rows]))
                    .values(attempts=t.c.attempts + 1, last_error=str(exc)[:500])
                )
                raise
            conn.execute(
                update(t).where(t.c.id.in_([r.id for r in rows])).values(published_at=datetime.now(timezone.utc))
            )
        BUS_PUBLISHED.labels(service=self.outbox.service).inc(len(rows))
        return len(rows)

    def backlog(self) -> int:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return conn.execute(
                sa_select(func.count()).select_from(self.table).where(self.table.c.published_at.is_(None))
            ).scalar_one()

    # -- the loop ---------------------------------------------------------------------------------------------
    def run(self, on_tick=None) -> None:
        backoff = 0.5
        while not self.stopping.is_set():
            if on_tick:
                on_tick()
            try:
                published = self.publish_pending()
                backoff = 0.5
            except PublishError as exc:
                log.warning("outbox relay cannot publish, retrying in %.1fs: %s", backoff, exc)
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            except Exception:  # the database may be restarting: keep the relay alive
                log.exception("outbox relay pass failed")
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            if published >= self.batch_size:
                continue
            if published == 0:
                OUTBOX_BACKLOG.labels(service=self.outbox.service).set(0)
            self._wait_for_work()
        self.publisher.close()

    def stop(self) -> None:
        self.stopping.set()
        self.outbox.wakeup.set()

    def _wait_for_work(self) -> None:
        if self.engine.dialect.name == "postgresql":
            self._wait_notify()
        else:
            self.outbox.wakeup.wait(min(self.idle_poll, 0.1))
            self.outbox.wakeup.clear()

    def _wait_notify(self) -> None:
        try:
            conn = self._listener()
            ready, _, _ = select.select([conn], [], [], self.idle_poll)
            if ready:
                for _ in conn.notifies(timeout=0):
                    pass
        except Exception:  # a broken listening connection falls back to polling until it reconnects
            log.debug("outbox listener failed", exc_info=True)
            self._close_listener()
            self.stopping.wait(0.05)

    def _listener(self):
        if self._listen_conn is None or self._listen_conn.closed:
            import psycopg

            url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            conn = psycopg.connect(url, autocommit=True)
            conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self._listen_conn = conn
        return self._listen_conn

    def _close_listener(self) -> None:
        if self._listen_conn is not None:
            try:
                self._listen_conn.close()
            finally:
                self._listen_conn = None
