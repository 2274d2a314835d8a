"""Embedded mode's file bus under faults (H3): a consumer killed mid-batch, by SIGKILL or SIGTERM, again and
again, loses no event and applies none twice; a message leaves the bus only once the consumer's transaction has
committed. Retries and dead letters keep working on the file bus."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from kombu import Consumer
from sqlalchemy import func, select

from busfixtures import CONSUMER, PRODUCER, SUBSCRIPTIONS, Running, Side, produce, wait_until
from ceres_shared.bus import deadletters
from ceres_shared.bus.relay import OutboxRelay
from ceres_shared.bus.topology import ServiceQueues, connect
from ceres_shared.config import BusSettings
from ceres_shared.outbox import Outbox

HERE = Path(__file__).parent


def bus_files(var: Path) -> list[Path]:
    """Every message file left on the bus, in the queues or claimed by a consumer."""
    return sorted(p for p in (var / "bus").rglob("*.msg"))


def embedded_sides(tmp_path: Path, monkeypatch, **bus_options):
    """Producer and consumer on SQLite, the file bus under tmp_path, the producer's relay."""
    monkeypatch.setenv("CERES_VAR_DIR", str(tmp_path))
    producer = Side.create(f"sqlite:///{tmp_path}/alpha.db")
    consumer = Side.create(f"sqlite:///{tmp_path}/beta.db")
    bus = BusSettings(url="filesystem://", **bus_options)
    outbox = Outbox(PRODUCER, producer.schemas.tables)
    return producer, consumer, bus, outbox, OutboxRelay(producer.engine, outbox, bus, SUBSCRIPTIONS)


def inbox_count(side: Side) -> int:
    with side.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(side.schemas.tables.inbox)).scalar_one()


def test_consumer_killed_mid_batch_again_and_again_loses_nothing_and_applies_each_once(tmp_path, monkeypatch):
    producer, consumer, bus, outbox, relay = embedded_sides(tmp_path, monkeypatch)
    total = 600
    produce(producer, outbox, total)
    while relay.publish_pending():
        pass
    relay.publisher.close()
    stalls = tmp_path / "stalls"
    stalls.mkdir()
    # The handler stops at these events (the first time) with the batch's earlier events handled, uncommitted.
    kills = [(70, signal.SIGKILL), (230, signal.SIGKILL), (330, signal.SIGTERM), (470, signal.SIGKILL)]
    env = {**os.environ, "CERES_VAR_DIR": str(tmp_path), "CERES_TEST_STALL_DIR": str(stalls),
           "CERES_TEST_STALL_AT": ",".join(str(seq) for seq, _ in kills)}

    def start_consumer() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "consumer_process.py"), f"sqlite:///{tmp_path}/beta.db", bus.url,
             bus.exchange], env=env, stdout=subprocess.PIPE, text=True,
        )
        assert proc.stdout.readline().strip() == "consuming"
        return proc

    for seq, sig in kills:
        proc = start_consumer()
        try:
            assert wait_until((stalls / str(seq)).exists, timeout=60), f"never reached event {seq}"
            os.kill(proc.pid, sig)
            assert proc.wait(30) is not None
        finally:
            proc.kill()
            proc.wait(10)
        assert consumer.effects_count() < total, "the consumer was done before it was killed: that proves nothing"
    last = start_consumer()
    try:
        assert wait_until(lambda: consumer.effects_count() >= total, timeout=60), consumer.effects_count()
        time.sleep(0.5)  # a redelivered copy, if any, would show now
    finally:
        last.send_signal(signal.SIGTERM)
        last.wait(30)
    assert consumer.effects_count() == total
    assert consumer.distinct_effects() == total
    assert inbox_count(consumer) == total
    assert bus_files(tmp_path) == []


def test_unacked_messages_go_back_in_their_order_and_acked_ones_are_gone(tmp_path, monkeypatch):
    producer, _, bus, outbox, relay = embedded_sides(tmp_path, monkeypatch)
    produce(producer, outbox, 10)
    relay.publish_pending()
    relay.publisher.close()
    queues = ServiceQueues(bus, CONSUMER, SUBSCRIPTIONS[CONSUMER])

    def take(count: int) -> list:
        taken: list = []
        on_bus = len(bus_files(tmp_path))
        with connect(bus) as conn:
            channel = conn.channel()
            queues.declare(channel)
            with Consumer(channel, queues=[queues.queues()[0]], on_message=taken.append, no_ack=False,
                          auto_declare=False):
                while len(taken) < count:
                    conn.drain_events(timeout=5)
                assert len(bus_files(tmp_path)) == on_bus  # taken, not gone: claimed until acked
                for message in taken[:3]:
                    message.ack()
                taken[3].reject(requeue=True)
                taken[4].reject(requeue=False)
            return [m.payload["payload"]["seq"] for m in taken]

    assert take(6) == [0, 1, 2, 3, 4, 5]
    # 0-2 acked, 4 rejected for good; 3 requeued, 5 unacked when the channel closed: both back, in order.
    assert len(bus_files(tmp_path)) == 6
    assert take(5) == [3, 5, 6, 7, 8]


def test_retries_and_dead_letters_work_on_the_file_bus(tmp_path, monkeypatch):
    producer, consumer, bus, _, _ = embedded_sides(tmp_path, monkeypatch, max_attempts=3, retry_base_ms=50)
    failures: dict = {}
    with Running(producer, consumer, bus, failure_log=failures) as running:
        produce(producer, running.outbox, 2, event_type="test.fragile", extra={"fail_times": 2})
        produce(producer, running.outbox, 1, start=7, event_type="test.fragile", extra={"fail_times": 99})
        produce(producer, running.outbox, 3, start=10)
        assert wait_until(lambda: consumer.effects_count() == 5, timeout=30)
        assert wait_until(lambda: running.consumer.totals.dead == 1, timeout=30)
    assert failures == {0: 2, 1: 2, 7: 3}
    assert consumer.distinct_effects() == 5
    view = type("View", (), {"settings": type("S", (), {"bus": bus})(), "service": CONSUMER,
                             "subscriptions": SUBSCRIPTIONS})()
    letters = deadletters.browse(view)
    assert [d.event_type for d in letters] == ["test.fragile"] and "failed 3 times" in letters[0].error
    assert len(deadletters.browse(view)) == 1  # browsing gives them back
    assert len(bus_files(tmp_path)) == 1  # the dead letter, nothing claimed left behind
    failures[7] = 99  # the bug is fixed: the handler no longer fails
    with Running(producer, consumer, bus, failure_log=failures):
        assert deadletters.replay(view, None) == 1
        assert wait_until(lambda: consumer.effects_count() == 6, timeout=30)
    assert deadletters.browse(view) == []
    assert bus_files(tmp_path) == []
