"""Embedded mode's file bus at its edges: an unreadable message file is set aside once and the queue goes on; the
`.writing` files of publishers killed mid-write are removed; a service sent SIGTERM stops cleanly (exit 0), losing
no event and applying none twice."""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from pathlib import Path

import pytest
from kombu import Consumer
from sqlalchemy import create_engine, func, select

from busfixtures import CONSUMER, PRODUCER, SUBSCRIPTIONS, Running, Side, produce, wait_until
from ceres_shared.bus import deadletters, fs_transport
from ceres_shared.bus.relay import OutboxRelay
from ceres_shared.bus.topology import ServiceQueues, connect
from ceres_shared.config import BusSettings
from ceres_shared.events.subscriptions import subscriptions
from ceres_shared.outbox import Outbox
from test_bus_embedded_faults import bus_files, embedded_sides

ROOT = Path(__file__).resolve().parents[2]


def publish_all(relay: OutboxRelay) -> None:
    while relay.publish_pending():
        pass
    relay.publisher.close()


def view_of(bus: BusSettings):
    """What deadletters needs of a Runtime."""
    return type("View", (), {"settings": type("S", (), {"bus": bus})(), "service": CONSUMER,
                             "subscriptions": SUBSCRIPTIONS})()


def test_unreadable_message_files_are_set_aside_once_and_the_queue_goes_on(tmp_path, monkeypatch, caplog):
    producer, consumer, bus, outbox, relay = embedded_sides(tmp_path, monkeypatch)
    produce(producer, outbox, 10)
    publish_all(relay)
    queues = ServiceQueues(bus, CONSUMER, SUBSCRIPTIONS[CONSUMER])
    messages = tmp_path / "bus" / "messages"
    names = sorted(n for n in os.listdir(messages) if n.endswith(f".{queues.main}.msg"))
    assert len(names) == 10
    good = (messages / names[5]).read_bytes()
    # Among the good ones, in the queue's order: a truncated message, garbage, JSON that is no kombu message.
    garbage = {
        names[2].replace(".", "-a.", 1): good[: len(good) // 2],
        names[5].replace(".", "-b.", 1): b"\x00\xff not json at all",
        names[7].replace(".", "-c.", 1): b'{"hello": "world"}',
    }
    for name, content in garbage.items():
        (messages / name).write_bytes(content)
    # And one in the dead-letter queue itself: it has no dead letters of its own, it goes to corrupt/.
    lost_dead = f"{'0' * 26}_{uuid.uuid4()}.{queues.dead}.msg"
    (messages / lost_dead).write_bytes(b"{truncated")

    with caplog.at_level(logging.ERROR, logger="ceres_shared.bus.fs_transport"):
        with Running(producer, consumer, bus) as running:
            assert wait_until(lambda: consumer.effects_count() == 10, timeout=30), consumer.effects_count()
            produce(producer, running.outbox, 5, start=10)  # not stuck: later messages still flow
            assert wait_until(lambda: consumer.effects_count() == 15, timeout=30), consumer.effects_count()
        assert consumer.distinct_effects() == 15
        for name in garbage:
            assert name in caplog.text, f"no error naming {name}"
        letters = deadletters.browse(view_of(bus))
        assert lost_dead in caplog.text  # browsing met the dead queue's own unreadable file
    assert (tmp_path / "bus" / "corrupt" / lost_dead).read_bytes() == b"{truncated"
    assert all(letter.error.startswith("unreadable message file ") for letter in letters) and len(letters) == 3
    assert [next(n for n in garbage if n in letter.error) for letter in letters] == list(garbage)  # in order
    truncated_name, truncated = next(iter(garbage.items()))
    ids = [part.split(b'"')[0].decode() for part in truncated.split(b'"message_id": "')[1:] if b'"' in part]
    assert letters[0].event_id == (ids[0] if ids else truncated_name.partition(".")[0])
    assert letters[0].body == truncated.decode()  # what was left of it, for whoever looks into it
    # Each set aside once: three dead letters, nothing claimed or queued left behind.
    assert len(bus_files(tmp_path)) == 3 + 1  # + the one in corrupt/
    assert len(deadletters.browse(view_of(bus))) == 3


def test_a_replayed_unreadable_dead_letter_is_dead_lettered_again_not_looped(tmp_path, monkeypatch):
    producer, consumer, bus, outbox, relay = embedded_sides(tmp_path, monkeypatch)
    queues = ServiceQueues(bus, CONSUMER, SUBSCRIPTIONS[CONSUMER])
    messages = tmp_path / "bus" / "messages"
    messages.mkdir(parents=True, exist_ok=True)
    (messages / f"{'0' * 26}_{uuid.uuid4()}.{queues.main}.msg").write_bytes(b"\x00garbage")
    with Running(producer, consumer, bus) as running:
        assert wait_until(lambda: len(deadletters.browse(view_of(bus))) == 1, timeout=30)
        assert deadletters.replay(view_of(bus), None) == 1
        assert wait_until(lambda: running.consumer.totals.dead == 1, timeout=30)  # its body is no event
    letters = deadletters.browse(view_of(bus))
    assert len(letters) == 1 and "garbage" in letters[0].body
    assert len(bus_files(tmp_path)) == 1


def writing_file(folder: Path, pid: int, age_s: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{pid}-{uuid.uuid4().hex}.writing"
    path.write_bytes(b'{"body": "half a mess')
    then = time.time() - age_s
    os.utime(path, (then, then))
    return path


def test_writing_files_of_killed_publishers_are_removed_at_consumer_start_and_then_periodically(
        tmp_path, monkeypatch):
    producer, consumer, bus, outbox, relay = embedded_sides(tmp_path, monkeypatch)
    messages = tmp_path / "bus" / "messages"
    # A publisher killed mid-write: its pid is gone.
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    stale = writing_file(messages, killed.pid, age_s=120)
    being_written = writing_file(messages, os.getpid(), age_s=120)  # its writer lives: it may still finish
    fresh = writing_file(messages, killed.pid, age_s=1)  # too young to judge
    produce(producer, outbox, 3)
    publish_all(relay)
    with Running(producer, consumer, bus):
        assert wait_until(lambda: consumer.effects_count() == 3, timeout=30)
        assert wait_until(lambda: not stale.exists(), timeout=10), "a dead writer's old file was left"
        assert being_written.exists() and fresh.exists()
    # Periodically too, not only at start.
    monkeypatch.setattr(fs_transport, "SWEEP_INTERVAL_S", 0.0)
    queues = ServiceQueues(bus, CONSUMER, SUBSCRIPTIONS[CONSUMER])
    with connect(bus) as conn:
        channel = conn.channel()
        queues.declare(channel)
        with Consumer(channel, queues=[queues.queues()[0]], on_message=lambda m: m.ack(), no_ack=False,
                      auto_declare=False):
            later = writing_file(messages, killed.pid, age_s=61)
            deadline = time.monotonic() + 10
            while later.exists() and time.monotonic() < deadline:
                try:
                    conn.drain_events(timeout=0.2)
                except TimeoutError:
                    pass
    assert not later.exists()
    assert being_written.exists() and fresh.exists()


def test_a_failed_write_leaves_no_writing_file(tmp_path, monkeypatch):
    _, _, bus, _, _ = embedded_sides(tmp_path, monkeypatch)

    def no_space(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    with connect(bus) as conn:
        channel = conn.channel()
        monkeypatch.setattr(fs_transport.os, "replace", no_space)
        with pytest.raises(OSError):
            channel._put("ceres.beta", {"body": "x", "properties": {}})
    assert list((tmp_path / "bus" / "messages").glob("*.writing")) == []


# -- a service sent SIGTERM -------------------------------------------------------------------------------------
TITRES = 2000


def titre_event(n: int) -> tuple[str, dict, int]:
    return ("titre.published", {"code": f"TP-{90000 + n}", "version_date": date(2024, 1, 1).isoformat(),
                                "libelle": f"Titre d'essai {n}", "kind": "TP", "level": 4, "nsf_codes": ["330"]}, 1)


def test_serve_embedded_stops_on_sigterm_after_its_batch_and_loses_nothing(tmp_path, monkeypatch):
    """A real service (establishments, `flask serve-embedded`) gets SIGTERM while titres flow to it: it exits 0
    within seconds; after a restart every titre is there, and none applied before the stop was applied again."""
    from ceres_establishments.models import Titre, platform

    var = tmp_path / "var"
    monkeypatch.setenv("CERES_VAR_DIR", str(var))  # the test's publisher writes to the service's bus
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "AMQP_URL", "JWKS_URL", "AMQP_EXCHANGE")}
    producer = Side.create(f"sqlite:///{tmp_path}/alpha.db")
    bus = BusSettings(url="filesystem://")
    outbox = Outbox(PRODUCER, producer.schemas.tables)
    relay = OutboxRelay(producer.engine, outbox, bus, subscriptions(), batch_size=100)
    with producer.session_factory.begin() as session:
        outbox.record_many(session, [titre_event(n) for n in range(TITRES)])
    queue = ServiceQueues(bus, "establishments", ()).main
    port = _free_port()
    service_db = create_engine(f"sqlite:///{var}/establishments.db")

    def start() -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "ceres_establishments.wsgi", "serve-embedded", "--port",
             str(port)], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        while (line := proc.stdout.readline()) and "listening on" not in line:
            lines.append(line)
        assert "listening on" in line, "".join(lines[-20:])
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe drained
        return proc

    def applied() -> dict[str, object]:
        with service_db.connect() as conn:
            return dict(conn.execute(select(Titre.code, Titre.updated_at).where(Titre.code.like("TP-9%"))).all())

    def inbox_count() -> int:
        with service_db.connect() as conn:
            return conn.execute(select(func.count()).select_from(platform.inbox)).scalar_one()

    def publish_slowly():  # events keep flowing while the service stops
        while relay.publish_pending():
            time.sleep(0.05)

    proc = start()
    publisher = threading.Thread(target=publish_slowly)
    try:
        publisher.start()
        assert wait_until(lambda: len(applied()) > 0, timeout=60, interval=0.01), "nothing applied"
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = proc.wait(15)
        stopped_in = time.monotonic() - started
    finally:
        proc.kill()
        proc.wait(10)
        publisher.join(60)
        relay.publisher.close()
    assert code == 0, f"SIGTERM: exit {code}"
    assert stopped_in < 10
    before = applied()
    assert 0 < len(before) < TITRES, "all were applied before the stop: that proves nothing"
    assert not list((var / "bus" / "processing").rglob(f"*.{queue}.msg")), "a claim left behind"
    inbox_before = inbox_count()

    proc = start()
    try:
        assert wait_until(lambda: len(applied()) == TITRES, timeout=90), len(applied())
        time.sleep(1)  # a redelivered copy, if any, would show now
        after = applied()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        service_db.dispose()
    assert {code: after[code] for code in before} == before, "applied again after the restart"
    assert inbox_count() == inbox_before + TITRES - len(before)
    assert not list((var / "bus").rglob(f"*.{queue}*.msg")), "left on the bus (or dead-lettered)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
