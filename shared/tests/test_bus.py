"""The bus on the real PostgreSQL and RabbitMQ: outbox, relay with confirms, idempotent inbox, retries,
dead letters, correlation ids."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from kombu import Exchange, Producer
from sqlalchemy import func, select

from busfixtures import CONSUMER, SUBSCRIPTIONS, Running, Side, produce, wait_until
from ceres_shared import correlation
from ceres_shared.bus import deadletters
from ceres_shared.bus.topology import connect
from ceres_shared.config import BusSettings


@pytest.fixture
def bus(amqp_url) -> BusSettings:
    # Names of their own per test (exchange and queues) keep one test's messages from feeding the next.
    return BusSettings(url=amqp_url, exchange=f"t{uuid.uuid4().hex[:8]}.events", max_attempts=3, retry_base_ms=50)


@pytest.fixture
def sides(new_database):
    producer = Side.create(new_database("alpha"))
    consumer = Side.create(new_database("beta"))
    yield producer, consumer
    producer.engine.dispose()
    consumer.engine.dispose()


class DeadLetterView:
    """What the dead-letters CLI needs of a runtime."""

    def __init__(self, bus):
        self.settings = type("S", (), {"bus": bus})()
        self.service = CONSUMER
        self.subscriptions = SUBSCRIPTIONS


def test_round_trip_carries_payload_and_correlation_id(sides, bus):
    producer, consumer = sides
    seen = []
    with Running(producer, consumer, bus) as running:
        original = running.consumer.handlers["test.ping"][0]
        running.consumer.handlers["test.ping"] = [
            lambda session, event: (seen.append((event.payload["seq"], correlation.get())), original(session, event))
        ]
        token = correlation.set("req-42")
        try:
            produce(producer, running.outbox, 50)
        finally:
            correlation.reset(token)
        assert wait_until(lambda: consumer.effects_count() == 50)
    assert sorted(s for s, _ in seen) == list(range(50))
    assert {c for _, c in seen} == {"req-42"}
    with producer.engine.connect() as conn:
        unsent = conn.execute(
            select(func.count()).select_from(producer.schemas.tables.outbox).where(
                producer.schemas.tables.outbox.c.published_at.is_(None))
        ).scalar_one()
    assert unsent == 0


def test_rolled_back_transaction_publishes_nothing(sides, bus):
    producer, consumer = sides
    with Running(producer, consumer, bus) as running:
        with pytest.raises(RuntimeError):
            with producer.session_factory.begin() as session:
                running.outbox.record(session, "test.ping", {"seq": 1})
                raise RuntimeError("the state change failed")
        produce(producer, running.outbox, 1, start=2)
        assert wait_until(lambda: consumer.effects_count() == 1)
    with consumer.engine.connect() as conn:
        assert conn.execute(select(consumer.schemas.effects.c.seq)).scalars().all() == [2]


def test_producer_rejects_a_payload_that_breaks_the_contract(sides, bus):
    from marshmallow import ValidationError

    producer, consumer = sides
    with Running(producer, consumer, bus) as running:
        with pytest.raises(ValidationError) as info:
            with producer.session_factory.begin() as session:
                running.outbox.record(session, "test.ping", {"seq": "not a number"})
    assert "seq" in info.value.messages


def test_events_published_twice_are_applied_once(sides, bus):
    """A relay that dies after publishing and before marking sends again: the inbox drops the copies."""
    producer, consumer = sides
    with Running(producer, consumer, bus) as running:
        running.relay.stop()
        running.threads[0].join(5)
        produce(producer, running.outbox, 100)
        t = producer.schemas.tables.outbox
        with producer.engine.connect() as conn:
            rows = conn.execute(select(t.c.event_id, t.c.event_type, t.c.body)).all()
        from ceres_shared.bus.publisher import OutgoingMessage, Publisher

        publisher = Publisher(bus, SUBSCRIPTIONS)
        publisher.publish([OutgoingMessage(r.event_id, r.event_type, r.body) for r in rows])  # "crashed" copy
        publisher.close()
        assert running.relay.publish_pending() == 100  # the real pass after restart
        assert wait_until(lambda: running.consumer.totals.duplicates >= 100)
    assert consumer.effects_count() == 100
    assert consumer.distinct_effects() == 100


def test_failing_handler_is_retried_with_backoff_then_succeeds(sides, bus):
    producer, consumer = sides
    failures: dict = {}
    with Running(producer, consumer, bus, failure_log=failures) as running:
        produce(producer, running.outbox, 3, event_type="test.fragile", extra={"fail_times": 2})
        produce(producer, running.outbox, 5, start=10)
        assert wait_until(lambda: consumer.effects_count() == 8, timeout=30)
        assert running.consumer.totals.retried >= 6
    assert failures == {0: 2, 1: 2, 2: 2}
    assert consumer.distinct_effects() == 8


def test_malformed_and_always_failing_events_go_to_the_dead_letter_queue(sides, bus):
    producer, consumer = sides
    failures: dict = {}
    with Running(producer, consumer, bus, failure_log=failures) as running:
        produce(producer, running.outbox, 1)  # declares the topology through the relay
        assert wait_until(lambda: consumer.effects_count() == 1)
        with connect(bus) as conn:
            raw = Producer(conn.channel())
            exchange = Exchange(bus.exchange, type="topic", durable=True)
            raw.publish(b"{not json", exchange=exchange, routing_key="test.ping", content_type="application/json",
                        serializer=None, message_id="garbage-1")
            bad_payload = {"id": str(uuid.uuid4()), "type": "test.ping", "version": 1,
                           "occurred_at": "2026-11-22T10:00:00+00:00", "producer": "alpha", "payload": {"seq": "x"}}
            raw.publish(json.dumps(bad_payload), exchange=exchange, routing_key="test.ping",
                        content_type="application/json", serializer=None, message_id=bad_payload["id"])
        produce(producer, running.outbox, 1, start=7, event_type="test.fragile", extra={"fail_times": 99})
        produce(producer, running.outbox, 3, start=100)  # the consumer keeps going
        assert wait_until(lambda: consumer.effects_count() == 4)
        assert wait_until(lambda: running.consumer.totals.dead == 3, timeout=30)
    view = DeadLetterView(bus)
    letters = deadletters.browse(view)
    assert len(letters) == 3
    by_id = {d.event_id: d for d in letters}
    assert "not JSON" in by_id["garbage-1"].error
    assert "seq" in by_id[bad_payload["id"]].error
    fragile = [d for d in letters if d.event_type == "test.fragile"]
    assert len(fragile) == 1 and "failed 3 times" in fragile[0].error
    assert failures[7] == 3
    # Browsing does not consume; replaying the fixed event applies it once and removes it from the queue.
    assert len(deadletters.browse(view)) == 3
    failures[7] = 99  # "the bug is fixed": the handler no longer fails
    with Running(producer, consumer, bus, failure_log=failures):
        assert deadletters.replay(view, {fragile[0].event_id}) == 1
        assert wait_until(lambda: consumer.effects_count() == 5)
    remaining = deadletters.browse(view)
    assert {d.event_id for d in remaining} == {"garbage-1", bad_payload["id"]}


def test_consumer_refuses_handlers_for_events_it_does_not_subscribe_to(sides, bus):
    from ceres_shared.bus.consumer import EventConsumer

    _, consumer = sides
    with pytest.raises(ValueError, match="does not subscribe"):
        EventConsumer(CONSUMER, consumer.engine, consumer.schemas.tables, bus, {"centre.registered": []},
                      SUBSCRIPTIONS)


def test_an_event_published_before_its_consumer_ever_started_is_kept(sides, bus):
    producer, consumer = sides
    from ceres_shared.bus.relay import OutboxRelay
    from ceres_shared.outbox import Outbox

    outbox = Outbox("alpha", producer.schemas.tables)
    relay = OutboxRelay(producer.engine, outbox, bus, SUBSCRIPTIONS)
    produce(producer, outbox, 20)
    assert relay.publish_pending() == 20
    relay.publisher.close()
    with Running(producer, consumer, bus):
        assert wait_until(lambda: consumer.effects_count() == 20)


def test_a_batch_handler_gets_runs_of_its_events_in_order_and_a_failing_run_is_redone_one_by_one(sides, bus):
    """@batch_handler: one call per run of consecutive events of its type; when the run fails, the batch is redone
    event by event so that only the bad event is retried, and each effect is applied once."""
    from ceres_shared.bus.consumer import batch_handler

    producer, consumer = sides
    calls: list[list[int]] = []
    refusals = {7: 0}
    add_effect = consumer.schemas.effects.insert()

    @batch_handler
    def on_pings(session, events):
        seqs = [e.payload["seq"] for e in events]
        calls.append(seqs)
        if 7 in seqs and refusals[7] < 2:  # event 7 fails in its batch, then alone; applied on redelivery
            refusals[7] += 1
            raise RuntimeError("event 7 cannot be applied yet")
        session.execute(add_effect, [{"event_id": e.id, "seq": e.payload["seq"]} for e in events])

    with Running(producer, consumer, bus, batch_wait=0.2) as running:
        running.consumer.handlers["test.ping"] = [on_pings]
        running.relay.stop()
        running.threads[0].join(5)
        produce(producer, running.outbox, 40, per_tx=40)
        assert running.relay.publish_pending() == 40
        assert wait_until(lambda: consumer.effects_count() == 40, timeout=30)
    assert consumer.distinct_effects() == 40
    assert running.consumer.totals.retried == 1  # only event 7 went through the retry queue
    first = calls[0]
    assert len(first) > 1 and first == sorted(first)  # a run in publication order, in one call
    assert calls.count([7]) == 2  # redone alone (fails), then redelivered from the retry queue (applied)
    assert sum(len(c) == 1 for c in calls) >= 2  # the failed batch was redone event by event
