"""A small producer/consumer pair on real PostgreSQL and RabbitMQ, for the bus tests and the benchmark."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from marshmallow import Schema, fields
from sqlalchemy import Column, Integer, String, Table, func, select, update

from ceres_shared.bus.consumer import EventConsumer
from ceres_shared.bus.relay import OutboxRelay
from ceres_shared.config import BusSettings
from ceres_shared.db import make_engine, make_session_factory, new_metadata
from ceres_shared.events import register
from ceres_shared.outbox import Outbox
from ceres_shared.platform_tables import PlatformTables

PRODUCER, CONSUMER = "alpha", "beta"
SUBSCRIPTIONS = {CONSUMER: ("test.ping", "test.fragile")}


@register("test.ping")
class PingPayload(Schema):
    seq = fields.Int(required=True)


@register("test.fragile")
class FragilePayload(Schema):
    seq = fields.Int(required=True)
    fail_times = fields.Int(required=True)


class Schemas:
    """Tables of one side: the platform tables plus, on the consumer, effects that would show a double apply."""

    def __init__(self):
        self.metadata = new_metadata()
        self.tables = PlatformTables(self.metadata)
        # One row per application, no unique key: a second application of an event is visible as a second row.
        self.effects = Table(
            "effects",
            self.metadata,
            Column("id", Integer, primary_key=True),
            Column("event_id", String(36), nullable=False),
            Column("seq", Integer, nullable=False),
        )
        self.counter = Table("counter", self.metadata, Column("id", Integer, primary_key=True), Column("n", Integer))
        self.failures = Table(
            "failures", self.metadata, Column("seq", Integer, primary_key=True), Column("count", Integer)
        )


@dataclass
class Side:
    engine: object
    schemas: Schemas
    session_factory: object

    @classmethod
    def create(cls, url: str) -> "Side":
        schemas = Schemas()
        engine = make_engine(url)
        schemas.metadata.create_all(engine)
        with engine.begin() as conn:
            if conn.execute(select(func.count()).select_from(schemas.counter)).scalar_one() == 0:
                conn.execute(schemas.counter.insert().values(id=1, n=0))
        return cls(engine, schemas, make_session_factory(engine))

    def effects_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.schemas.effects)).scalar_one()

    def distinct_effects(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count(func.distinct(self.schemas.effects.c.seq)))).scalar_one()

    def counter_value(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(self.schemas.counter.c.n)).scalar_one()


def wait_until(predicate, timeout=30.0, interval=0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def make_handlers(side: Side, failure_log: dict | None = None):
    s = side.schemas
    add_effect = s.effects.insert()
    bump = update(s.counter).values(n=s.counter.c.n + 1)

    def on_ping(session, event):
        session.execute(add_effect, {"event_id": event.id, "seq": event.payload["seq"]})
        session.execute(bump)

    def on_fragile(session, event):
        # Fails the first fail_times deliveries; the count is kept outside the rolled-back transaction.
        seq = event.payload["seq"]
        done = failure_log.setdefault(seq, 0)
        if done < event.payload["fail_times"]:
            failure_log[seq] = done + 1
            raise RuntimeError(f"planned failure {done + 1} of event {seq}")
        on_ping(session, event)

    return {"test.ping": [on_ping], "test.fragile": [on_fragile]}


def produce(side: Side, outbox: Outbox, count: int, start: int = 0, per_tx: int = 200, event_type="test.ping",
            extra=None) -> None:
    for first in range(start, start + count, per_tx):
        with side.session_factory.begin() as session:
            outbox.record_many(
                session,
                [(event_type, {"seq": seq, **(extra or {})}, 1) for seq in range(first, min(first + per_tx, start + count))],
            )


class Running:
    """Relay and consumer threads for a test; stopped and joined at the end."""

    def __init__(self, producer: Side, consumer: Side, bus: BusSettings, failure_log=None, **consumer_kwargs):
        self.outbox = Outbox(PRODUCER, producer.schemas.tables)
        self.relay = OutboxRelay(producer.engine, self.outbox, bus, SUBSCRIPTIONS)
        self.consumer = EventConsumer(
            CONSUMER,
            consumer.engine,
            consumer.schemas.tables,
            bus,
            make_handlers(consumer, failure_log if failure_log is not None else {}),
            SUBSCRIPTIONS,
            **consumer_kwargs,
        )
        self.threads = [
            threading.Thread(target=self.relay.run, daemon=True),
            threading.Thread(target=self.consumer.run, daemon=True),
        ]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.relay.stop()
        self.consumer.stop()
        for t in self.threads:
            t.join(timeout=15)
