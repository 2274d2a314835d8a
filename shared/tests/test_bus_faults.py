"""Fault injection on the real broker: a broker restart during a burst, a consumer killed with SIGKILL.
No event may be lost and none applied twice."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from busfixtures import PRODUCER, SUBSCRIPTIONS, Running, Side, produce, wait_until
from ceres_shared.bus.relay import OutboxRelay
from ceres_shared.config import BusSettings
from ceres_shared.outbox import Outbox

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent


@pytest.fixture
def bus(amqp_url) -> BusSettings:
    return BusSettings(url=amqp_url, exchange=f"f{uuid.uuid4().hex[:8]}.events")


def test_broker_restart_during_a_burst_of_10000_events_loses_nothing_and_applies_each_once(
    infra, new_database, bus
):
    producer, consumer = Side.create(new_database("alpha")), Side.create(new_database("beta"))
    total = 10_000
    with Running(producer, consumer, bus) as running:
        writer = threading.Thread(target=produce, args=(producer, running.outbox, total), kwargs={"per_tx": 100})
        writer.start()
        assert wait_until(lambda: consumer.effects_count() >= 1000, timeout=120), "the burst never started"
        infra.restart_broker()  # stop_app + start_app: every connection drops mid-stream
        restarted_at = consumer.effects_count()
        writer.join()
        assert wait_until(lambda: consumer.effects_count() >= total, timeout=300), consumer.effects_count()
        time.sleep(1)  # let redeliveries, if any, arrive
    assert restarted_at < total, "the restart happened after the burst: it proved nothing"
    assert consumer.effects_count() == total
    assert consumer.distinct_effects() == total
    assert running.relay.backlog() == 0


def test_consumer_killed_mid_stream_loses_nothing_and_applies_each_once(new_database, bus):
    producer, consumer = Side.create(new_database("alpha")), Side.create(new_database("beta"))
    db_url = consumer.engine.url.render_as_string(hide_password=False)
    total = 4000

    def start_consumer():
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "consumer_process.py"), db_url, bus.url, bus.exchange],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert proc.stdout.readline().strip() == "consuming"
        return proc

    outbox = Outbox(PRODUCER, producer.schemas.tables)
    relay = OutboxRelay(producer.engine, outbox, bus, SUBSCRIPTIONS)
    relay_thread = threading.Thread(target=relay.run, daemon=True)
    relay_thread.start()
    try:
        first = start_consumer()
        produce(producer, outbox, total, per_tx=100)
        assert wait_until(lambda: consumer.effects_count() >= 500, timeout=120)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        killed_at = consumer.effects_count()
        assert killed_at < total, "the consumer finished before it was killed: the test proved nothing"
        second = start_consumer()
        try:
            assert wait_until(lambda: consumer.effects_count() >= total, timeout=300), consumer.effects_count()
            time.sleep(1)
        finally:
            second.terminate()
            second.wait(10)
    finally:
        relay.stop()
        relay_thread.join(10)
    assert consumer.effects_count() == total
    assert consumer.distinct_effects() == total
