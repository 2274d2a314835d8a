"""The idempotent consumer: effects and the inbox row commit together, and the ack follows the commit.

Messages are taken in batches handled in one transaction (one commit for many events keeps up with the
publishers); when a handler fails, the batch is redone with a savepoint per event. Handlers marked with
@batch_handler receive each run of consecutive events of their type at once (one statement for many rows).
A redelivered event finds its id in the inbox and changes nothing.
A handler that fails is retried later with backoff (through the retry queue on RabbitMQ), then dead-lettered;
an event that does not validate against its contract is dead-lettered at once.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kombu import Consumer
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from .. import correlation
from ..config import BusSettings
from ..events import Envelope, InvalidEvent, parse_envelope
from ..metrics import BUS_HANDLED
from ..platform_tables import PlatformTables
from .publisher import OutgoingMessage, Publisher
from .topology import ServiceQueues, connect

log = logging.getLogger(__name__)

Handler = Callable[[Session, Envelope], None]
ATTEMPT_HEADER = "x-ceres-attempt"


def batch_handler(fn: Callable[[Session, list[Envelope]], None]):
    """Marks a handler that takes (session, envelopes): it is called once for each run of consecutive events of
    its type in a batch (in order), so that it can write them with one statement. When the batch fails, the
    events are redone one by one and it is then called with one envelope at a time."""
    fn.ceres_batch = True
    return fn


def _is_batch(handler) -> bool:
    return getattr(handler, "ceres_batch", False)


@dataclass
class Outcome:
    handled: int = 0
    duplicates: int = 0
    retried: int = 0
    dead: int = 0


class EventConsumer:
    def __init__(
        self,
        service: str,
        engine: Engine,
        tables: PlatformTables,
        bus: BusSettings,
        handlers: dict[str, list[Handler]],
        subscriptions: dict[str, tuple[str, ...]],
        batch_size: int = 100,
        batch_wait: float = 0.005,
        heartbeat_file: Path | None = None,
    ):
        allowed = set(subscriptions.get(service, ()))
        unexpected = set(handlers) - allowed
        if unexpected:
            raise ValueError(f"{service} handles {sorted(unexpected)} but does not subscribe to them")
        self.service = service
        self.engine = engine
        self.inbox = tables.inbox
        self.bus = bus
        self.handlers = handlers
        self.queues = ServiceQueues(bus, service, tuple(sorted(allowed)))
        self.publisher = Publisher(bus, subscriptions)
        self.batch_size = min(batch_size, bus.prefetch)
        self.batch_wait = batch_wait
        self.heartbeat_file = heartbeat_file
        self.stopping = threading.Event()
        self.totals = Outcome()
        self._pending: list = []

    # -- the loop ---------------------------------------------------------------------------------------------
    def run(self) -> None:
        backoff = 0.2
        while not self.stopping.is_set():
            try:
                self._consume_until_stopped()
                backoff = 0.2
            except Exception as exc:  # broker or database gone: unacked messages return to the queue
                log.warning("consumer %s interrupted (%s); reconnecting in %.1fs", self.service, exc, backoff)
                self._pending.clear()
                self.stopping.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.publisher.close()

    def stop(self) -> None:
        self.stopping.set()

    def _consume_until_stopped(self) -> None:
        with connect(self.bus) as conn:
            conn.ensure_connection(max_retries=3, interval_start=0.2, interval_step=0.5, interval_max=2)
            channel = conn.channel()
            self.queues.declare(channel)
            channel.basic_qos(0, self.bus.prefetch, False)
            main = self.queues.queues()[0]
            with Consumer(channel, queues=[main], on_message=self._pending.append, no_ack=False, auto_declare=False):
                while not self.stopping.is_set():
                    self._beat()
                    self._drain(conn)
                    if self._pending:
                        batch, self._pending[:] = list(self._pending), []
                        self.process(batch)

    def _drain(self, conn) -> None:
        try:
            conn.drain_events(timeout=0.5)
        except socket.timeout:
            return
        deadline = time.monotonic() + self.batch_wait
        while len(self._pending) < self.batch_size and time.monotonic() < deadline:
            try:
                conn.drain_events(timeout=self.batch_wait)
            except socket.timeout:
                return

    def _beat(self) -> None:
        if self.heartbeat_file is not None:
            self.heartbeat_file.touch()

    # -- one batch --------------------------------------------------------------------------------------------
    def process(self, batch: list) -> Outcome:
        outcome = Outcome()
        parsed: list[tuple[object, Envelope]] = []
        to_dead: list[tuple[object, str]] = []
        for message in batch:
            try:
                env = parse_envelope(message.body)
            except InvalidEvent as exc:
                to_dead.append((message, f"{exc.reason}: {exc.errors}" if exc.errors else exc.reason))
                continue
            if env.type not in self.handlers:
                to_dead.append((message, f"no handler for {env.type} in {self.service}"))
                continue
            parsed.append((message, env))

        failed: list[tuple[object, Envelope, Exception]] = []
        if parsed:
            try:
                applied, duplicates = self._apply_all(parsed)
            except _HandlerFailed as failure:
                # Redo the batch with a savepoint per event, without calling the failed handler a second time.
                known = {failure.event_id: failure.error} if failure.event_id else {}
                applied, duplicates, failed = self._apply_one_by_one(parsed, known)
            outcome.handled += applied
            outcome.duplicates += duplicates
        for message, env, exc in failed:
            if self._retry_later(message, env, exc):
                outcome.retried += 1
            else:
                outcome.dead += 1
        for message, reason in to_dead:
            self._dead_letter(message, reason)
            outcome.dead += 1
        self._ack_all(batch)
        self._count(outcome)
        return outcome

    def _ack_all(self, batch: list) -> None:
        """Every message of the batch is settled (applied, duplicate, retried or dead): ack them all."""
        if self.bus.is_amqp and batch:
            # One frame for the whole batch: all unacked deliveries of this channel are in it.
            last = max(batch, key=lambda m: m.delivery_tag)
            last.channel.basic_ack(last.delivery_tag, multiple=True)
            return
        for message in batch:
            message.ack()

    def _claim(self, session: Session, envs: list[Envelope]) -> set[str]:
        """Insert the inbox rows; returns the ids that were not there yet (the events to apply now)."""
        rows = {env.id: {"event_id": env.id, "event_type": env.type, "producer": env.producer} for env in envs}
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        # A concurrent consumer's uncommitted row makes this wait, then count as already there.
        stmt = dialect_insert(self.inbox).on_conflict_do_nothing().returning(self.inbox.c.event_id)
        return set(session.scalars(stmt, list(rows.values())))

    def _apply_all(self, parsed: list[tuple[object, Envelope]]) -> tuple[int, int]:
        """The fast path: one transaction, no savepoints; any handler failure rolls the batch back."""
        with Session(self.engine) as session, session.begin():
            claimed = self._claim(session, [env for _, env in parsed])
            todo = []
            for _, env in parsed:
                if env.id in claimed:
                    claimed.discard(env.id)  # a copy later in the same batch is a duplicate
                    todo.append(env)
            for run in _runs_of_one_type(todo):
                self._run_handlers_on_run(session, run)
        return len(todo), len(parsed) - len(todo)

    def _run_handlers_on_run(self, session: Session, run: list[Envelope]) -> None:
        handlers = self.handlers[run[0].type]
        if not any(_is_batch(h) for h in handlers):
            for env in run:  # each event through all its handlers, in order, as one by one
                try:
                    self._run_handlers(session, env)
                except Exception as exc:  # noqa: BLE001
                    raise _HandlerFailed(env.id, exc) from exc
            return
        for handler in handlers:  # handler by handler over the run
            try:
                if _is_batch(handler):
                    handler(session, run)
                else:
                    for env in run:
                        self._run_handlers(session, env, only=handler)
            except Exception as exc:  # noqa: BLE001 - which event failed is found one by one
                raise _HandlerFailed(None, exc) from exc

    def _apply_one_by_one(self, parsed, known_failures: dict[str, Exception]):
        failed = []
        applied = 0
        with Session(self.engine) as session, session.begin():
            claimed = self._claim(session, [env for _, env in parsed])
            for message, env in parsed:
                if env.id not in claimed:
                    continue
                claimed.discard(env.id)
                try:
                    if env.id in known_failures:
                        raise known_failures[env.id]
                    with session.begin_nested():
                        self._run_handlers(session, env)
                    applied += 1
                except Exception as exc:  # noqa: BLE001 - retried, then dead-lettered
                    log.warning("handler failed for %s %s: %s", env.type, env.id, exc)
                    # Its inbox row must not commit, or the retry would be taken for a duplicate.
                    session.execute(self.inbox.delete().where(self.inbox.c.event_id == env.id))
                    failed.append((message, env, exc))
        return applied, len(parsed) - applied - len(failed), failed

    def _run_handlers(self, session: Session, env: Envelope, only: Handler | None = None) -> None:
        token = correlation.set(env.correlation_id)
        try:
            for handler in (only,) if only else self.handlers[env.type]:
                handler(session, [env]) if _is_batch(handler) else handler(session, env)
        finally:
            correlation.reset(token)

    def _attempt(self, message) -> int:
        try:
            return int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        except (TypeError, ValueError):
            return 1

    def _retry_later(self, message, env: Envelope, exc: Exception) -> bool:
        attempt = self._attempt(message)
        if attempt >= self.bus.max_attempts:
            self._dead_letter(message, f"failed {attempt} times: {exc!r}")
            return False
        delay_ms = self.bus.retry_base_ms * (4 ** (attempt - 1))
        headers = {**(message.headers or {}), ATTEMPT_HEADER: attempt + 1, "x-ceres-last-error": repr(exc)[:500]}
        if self.bus.is_amqp:
            self._publish_retry(env.id, message, headers, delay_ms)
        else:
            # The filesystem transport has no message TTL: wait here (bounded), then requeue.
            self.stopping.wait(min(delay_ms / 1000, 1.0))
            self.publisher.publish(
                [OutgoingMessage(env.id, self.queues.main, _text(message.body), headers, exchange="")]
            )
        return True

    def _publish_retry(self, event_id: str, message, headers: dict, delay_ms: int) -> None:
        self.publisher.publish(
            [
                OutgoingMessage(
                    event_id, self.queues.retry, _text(message.body), headers, exchange="", expiration_ms=delay_ms
                )
            ]
        )

    def _dead_letter(self, message, reason: str) -> None:
        log.error("dead-lettering a message in %s: %s", self.service, reason)
        headers = {
            **(message.headers or {}),
            "x-ceres-error": reason[:2000],
            "x-ceres-routing-key": (message.delivery_info or {}).get("routing_key", ""),
            "x-ceres-failed-at": datetime.now(timezone.utc).isoformat(),
            "x-ceres-service": self.service,
        }
        event_id = (message.properties or {}).get("message_id") or ""
        self.publisher.publish(
            [OutgoingMessage(str(event_id), self.queues.dead, _text(message.body), headers, exchange="")]
        )

    def _count(self, outcome: Outcome) -> None:
        for name in ("handled", "duplicates", "retried", "dead"):
            value = getattr(outcome, name)
            if value:
                setattr(self.totals, name, getattr(self.totals, name) + value)
                BUS_HANDLED.labels(service=self.service, outcome=name).inc(value)


def _runs_of_one_type(envs: list[Envelope]) -> list[list[Envelope]]:
    runs: list[list[Envelope]] = []
    for env in envs:
        if runs and runs[-1][0].type == env.type:
            runs[-1].append(env)
        else:
            runs.append([env])
    return runs


class _HandlerFailed(Exception):
    def __init__(self, event_id: str | None, error: Exception):
        super().__init__(event_id)
        self.event_id = event_id
        self.error = error


def _text(body) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", errors="replace")
    return body if isinstance(body, str) else str(body)
