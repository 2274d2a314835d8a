"""Benchmark of the event bus: outbox -> relay (confirms) -> RabbitMQ -> consumer -> inbox, on the real
PostgreSQL and RabbitMQ of this machine.

Two phases, producer (with its relay thread) and consumer in separate processes, as two services would be:
  1. burst: N events committed as fast as possible (transactions of --per-tx events); events/s is N divided by the
     time from the first commit to the last event handled;
  2. paced: one event per transaction at --rate events/s (below capacity), latency from commit to handled.
Both run twice, with a consumer whose handler writes a row per event by one statement each, then with a
@batch_handler writing the same rows by one statement per run of events. Prints a table, then one JSON line
(`events_per_s` and `p95_ms` are the batch handler's; each handler's figures are under its name), with the CPU
each kind of process spent per event, so that a figure taken on a busy machine can still be read.

    .venv/bin/python bench/bus.py            # 20,000 events per handler
    .venv/bin/python bench/bus.py --quick    # about a minute
    .venv/bin/python bench/bus.py --smoke    # seconds: 200 events, 1 s paced at 50/s, per handler (make test)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))

from marshmallow import Schema, fields  # noqa: E402
from sqlalchemy import Column, Float, Integer, String, Table, func, select  # noqa: E402

from ceres_shared.bus.consumer import EventConsumer, batch_handler  # noqa: E402
from ceres_shared.bus.relay import OutboxRelay  # noqa: E402
from ceres_shared.config import BusSettings  # noqa: E402
from ceres_shared.db import make_engine, make_session_factory, new_metadata  # noqa: E402
from ceres_shared.events import register  # noqa: E402
from ceres_shared.outbox import Outbox  # noqa: E402
from ceres_shared.platform_tables import PlatformTables  # noqa: E402

SUBSCRIPTIONS = {"bench_consumer": ("bench.tick",)}


@register("bench.tick")
class TickPayload(Schema):
    seq = fields.Int(required=True)
    phase = fields.Str(required=True)


def tables():
    metadata = new_metadata()
    platform = PlatformTables(metadata)
    # What a projection handler typically does: one row written per event.
    handled = Table(
        "handled",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("seq", Integer, nullable=False),
        Column("phase", String(10), nullable=False),
        Column("handled_at", Float, nullable=False),
    )
    committed = Table(
        "committed", metadata, Column("seq", Integer, nullable=False), Column("phase", String(10)),
        Column("committed_at", Float, nullable=False),
    )
    return metadata, platform, handled, committed


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU of each of these processes (Linux /proc), to show where the time goes on a busy machine."""
    found = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields_ = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")
    return found


def pids_named(*names) -> list[int]:
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            if comm.startswith(names):
                found.append(int(entry))
    return found


def cpu_snapshot(consumers) -> dict[str, dict[int, float]]:
    return {
        "producer": cpu_seconds([os.getpid()]),
        "consumer": cpu_seconds([c.pid for c in consumers]),
        "postgres": cpu_seconds(pids_named("postgres")),
        "rabbitmq": cpu_seconds(pids_named("beam", "erl_child")),
    }


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU spent between two snapshots by the processes in both: one that ended or started in between (another
    user's rabbitmqctl is a beam process too) would make the sum jump, even below zero."""
    return sum(after[pid] - before[pid] for pid in after.keys() & before.keys())


def load_average() -> float:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else -1.0


def run_consumer(db_url: str, amqp_url: str, exchange: str, mode: str) -> None:
    metadata, platform, handled, _ = tables()
    engine = make_engine(db_url)
    insert_handled = handled.insert()

    def row(event):
        return {"seq": event.payload["seq"], "phase": event.payload["phase"], "handled_at": time.time()}

    def on_tick(session, event):  # a statement per event
        session.execute(insert_handled, row(event))

    @batch_handler
    def on_ticks(session, events):  # the same rows, one statement per run of events
        session.execute(insert_handled, [row(e) for e in events])

    bus = BusSettings(url=amqp_url, exchange=exchange)
    handler = on_ticks if mode == "batch" else on_tick
    consumer = EventConsumer("bench_consumer", engine, platform, bus, {"bench.tick": [handler]}, SUBSCRIPTIONS)
    print("ready", flush=True)
    consumer.run()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--per-tx", type=int, default=50, help="events per producer transaction (burst)")
    parser.add_argument("--rate", type=int, default=300, help="events/s in the paced phase")
    parser.add_argument("--paced-seconds", type=float, default=15)
    parser.add_argument("--consumers", type=int, default=1, help="consumer processes on the service's queue")
    parser.add_argument("--handler", choices=("both", "per-event", "batch"), default="both",
                        help="the consumer's handler: a statement per event, a @batch_handler (one statement per "
                             "run of events), or both one after the other in the same run (default)")
    parser.add_argument("--quick", action="store_true", help="about a minute: 5,000 events, 6 s paced, per handler")
    parser.add_argument("--smoke", action="store_true", help="seconds: 200 events, 1 s paced at 50/s, per handler")
    parser.add_argument("--amqp-url", help="a RabbitMQ virtual host to use instead of a new one (the smoke test's)")
    parser.add_argument("--consumer", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.consumer:
        run_consumer(*args.consumer)
        return 0
    if args.quick:
        args.events, args.paced_seconds = 5000, 6
    if args.smoke:
        args.events, args.paced_seconds, args.rate = 200, 1, 50

    from ceres_shared.testing.infra import discover

    infra = discover()
    modes = ("per-event", "batch") if args.handler == "both" else (args.handler,)
    try:
        # One virtual host for both handlers (each run has its own exchange and queues): rabbitmqctl takes
        # seconds on a busy machine.
        amqp_url = args.amqp_url or infra.new_vhost("bench")
        results = {mode: bench(infra, args, mode, amqp_url) for mode in modes}
    finally:
        infra.close()
    report(args, results)
    return 0 if all(r["lost"] == 0 and r["duplicates"] == 0 for r in results.values()) else 1


LABELS = {
    "events_per_s": "burst: events/s end to end",
    "producer_commit_per_s": "burst: events/s committed",
    "burst_p50_ms": "burst: commit->handled p50 (ms)",
    "burst_p95_ms": "burst: commit->handled p95 (ms)",
    "p50_ms": "paced: commit->handled p50 (ms)",
    "p95_ms": "paced: commit->handled p95 (ms)",
    "p99_ms": "paced: commit->handled p99 (ms)",
    "duplicates": "applied twice",
    "lost": "lost",
    "cpu_us_per_event_producer": "burst: CPU µs/event, producer+relay",
    "cpu_us_per_event_consumer": "burst: CPU µs/event, consumer",
    "cpu_us_per_event_postgres": "burst: CPU µs/event, postgres (all)",
    "cpu_us_per_event_rabbitmq": "burst: CPU µs/event, rabbitmq",
    "load_average": "load average (1 min) after burst",
}


def report(args, results: dict[str, dict]) -> None:
    modes = list(results)
    print(f"{args.events} events in transactions of {args.per_tx}; then {args.rate} events/s for "
          f"{args.paced_seconds:g} s; {args.consumers} consumer process(es)")
    print(f"{'figure':<38}" + "".join(f"{m:>14}" for m in modes))
    print("-" * (38 + 14 * len(modes)))
    for key, label in LABELS.items():
        print(f"{label:<38}" + "".join(f"{results[m][key]:>14}" for m in modes))
    # The headline is the bus with a batch handler when it ran (the bus's own cost); both are in the line.
    head = results.get("batch") or results[modes[0]]
    line = {
        "events": args.events,
        "per_tx": args.per_tx,
        "consumers": args.consumers,
        "paced_rate": args.rate,
        "headline_handler": "batch" if "batch" in results else modes[0],
        "events_per_s": head["events_per_s"],
        "p95_ms": head["p95_ms"],
        **{mode.replace("-", "_"): figures for mode, figures in results.items()},
    }
    print(json.dumps(line))


def bench(infra, args, mode: str, amqp_url: str) -> dict:
    metadata, platform, handled, committed = tables()
    producer_url, consumer_url = infra.new_database("bench_p"), infra.new_database("bench_c")
    exchange = f"b{uuid.uuid4().hex[:6]}.events"
    producer_engine, consumer_engine = make_engine(producer_url), make_engine(consumer_url)
    metadata.create_all(producer_engine)
    metadata.create_all(consumer_engine)
    sessions = make_session_factory(producer_engine)
    bus = BusSettings(url=amqp_url, exchange=exchange)
    outbox = Outbox("bench_producer", platform)
    relay = OutboxRelay(producer_engine, outbox, bus, SUBSCRIPTIONS)
    relay.publish_pending()  # declares the exchange and the consumer's queue
    consumers = [
        subprocess.Popen([sys.executable, __file__, "--consumer", consumer_url, amqp_url, exchange, mode],
                         stdout=subprocess.PIPE, text=True)
        for _ in range(args.consumers)
    ]
    for consumer in consumers:
        assert consumer.stdout.readline().strip() == "ready"
    relay_thread = threading.Thread(target=relay.run, daemon=True)
    relay_thread.start()
    commits: list[tuple[int, str, float]] = []

    def count(phase):
        with consumer_engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(handled).where(handled.c.phase == phase)).scalar_one()

    def wait_for(phase, n, timeout=600):
        deadline = time.monotonic() + timeout
        while count(phase) < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {count(phase)} of {n} {phase} events handled")
            time.sleep(0.02)

    try:
        # 1. burst
        cpu_before = cpu_snapshot(consumers)
        start = time.time()
        for first in range(0, args.events, args.per_tx):
            seqs = range(first, min(first + args.per_tx, args.events))
            with sessions.begin() as session:
                outbox.record_many(session, [("bench.tick", {"seq": s, "phase": "burst"}, 1) for s in seqs])
            now = time.time()
            commits.extend((s, "burst", now) for s in seqs)
        produced = time.time() - start
        wait_for("burst", args.events)
        burst_elapsed = time.time() - start
        cpu_after = cpu_snapshot(consumers)
        load = load_average()
        # 2. paced
        total_paced = int(args.rate * args.paced_seconds)
        interval = 1.0 / args.rate
        t0 = time.perf_counter()
        for seq in range(total_paced):
            target = t0 + seq * interval
            delay = target - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            with sessions.begin() as session:
                outbox.record(session, "bench.tick", {"seq": seq, "phase": "paced"})
            commits.append((seq, "paced", time.time()))
        wait_for("paced", total_paced)
    finally:
        relay.stop()
        relay_thread.join(10)
        for consumer in consumers:
            consumer.terminate()
            consumer.wait(10)

    with consumer_engine.connect() as conn:
        rows = conn.execute(select(handled.c.seq, handled.c.phase, handled.c.handled_at)).all()
    handled_at = {(r.seq, r.phase): r.handled_at for r in rows}
    duplicates = len(rows) - len(handled_at)
    latency = {"burst": [], "paced": []}
    for seq, phase, at in commits:
        latency[phase].append((handled_at[(seq, phase)] - at) * 1000)

    def pct(values, q):
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]

    return {
        "events_per_s": round(args.events / burst_elapsed, 1),
        "producer_commit_per_s": round(args.events / produced, 1),
        "paced_events": total_paced,
        "p50_ms": round(pct(latency["paced"], 50), 2),
        "p95_ms": round(pct(latency["paced"], 95), 2),
        "p99_ms": round(pct(latency["paced"], 99), 2),
        "burst_p50_ms": round(pct(latency["burst"], 50), 1),
        "burst_p95_ms": round(pct(latency["burst"], 95), 1),
        "duplicates": duplicates,
        "lost": len(commits) - len(handled_at),
        # CPU per event during the burst (all processes of each kind; postgres and rabbitmq include whatever
        # else uses them on this machine), and the load average at its end: how busy the machine was.
        **{f"cpu_us_per_event_{k}": round(cpu_spent(cpu_before[k], cpu_after[k]) / args.events * 1e6, 1)
           for k in cpu_after},
        "load_average": load,
    }


if __name__ == "__main__":
    sys.exit(main())
