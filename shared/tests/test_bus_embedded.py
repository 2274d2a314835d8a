"""The embedded mode's bus: SQLite outbox/inbox and kombu's filesystem transport, producer and consumer in two
processes (the transport keeps exchange types per process: both sides declare, or topic messages are lost)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from busfixtures import PRODUCER, SUBSCRIPTIONS, Side, produce
from ceres_shared.bus.relay import OutboxRelay
from ceres_shared.config import BusSettings
from ceres_shared.outbox import Outbox

HERE = Path(__file__).parent


def test_events_cross_processes_on_the_filesystem_transport_once_each(tmp_path, monkeypatch):
    monkeypatch.setenv("CERES_VAR_DIR", str(tmp_path))
    producer = Side.create(f"sqlite:///{tmp_path}/alpha.db")
    consumer = Side.create(f"sqlite:///{tmp_path}/beta.db")
    bus = BusSettings(url="filesystem://")
    outbox = Outbox(PRODUCER, producer.schemas.tables)
    relay = OutboxRelay(producer.engine, outbox, bus, SUBSCRIPTIONS)
    produce(producer, outbox, 150)
    assert relay.publish_pending() == 150  # before the consumer process ever started
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "consumer_process.py"), f"sqlite:///{tmp_path}/beta.db", bus.url, bus.exchange],
        env={**os.environ, "CERES_VAR_DIR": str(tmp_path)}, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "consuming"
        produce(producer, outbox, 50, start=150)
        assert relay.publish_pending() == 50
        deadline = time.monotonic() + 60
        while consumer.effects_count() < 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(10)
        relay.publisher.close()
    assert consumer.effects_count() == 200
    assert consumer.distinct_effects() == 200
