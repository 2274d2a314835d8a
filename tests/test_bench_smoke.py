"""Benchmarks cannot rot: each `bench/*.py --smoke` (tiny data, the code path of --quick) runs in a process of its
own, on this run's PostgreSQL and RabbitMQ, prints its table, then one JSON line of plausible figures."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# benchmark -> (a line of its table, the figures its JSON line must hold (positive), uses a RabbitMQ vhost)
BENCHMARKS = {
    "bus": ("burst: events/s end to end",
            ["events_per_s", "p95_ms", "per_event.events_per_s", "per_event.p95_ms", "batch.events_per_s",
             "batch.p95_ms", "batch.producer_commit_per_s"], True),
    "printing": ("end to end documents/s",
                 ["docs_per_s", "plain_docs_per_s", "peak_rss_mb", "speedup", "total_s", "documents", "batches",
                  "files", "render_cpu_ms_per_doc"], True),
    "establishments_search": ("HTTP p95",
                              ["p95_ms", "service_p95_ms", "national_siret_p95_ms", "ud_words_p95_ms",
                               "floor_healthz_p95_ms"], False),
    "sessions_dashboard": ("counts p95",
                           ["p95_ms", "board_p95_ms", "controls", "sessions", "roles.DGEFP (national).p95_ms",
                            "roles.UD (1 département).board_p95_ms"], False),
    "candidates_dedup": ("duplicate check",
                         ["rows", "queries", "dedup_p95_ms", "search_p95_ms", "p95_ms", "dedup_recall",
                          "search_recall"], False),
}


def figure(line: dict, path: str):
    value = line
    for key in path.split("."):
        assert isinstance(value, dict) and key in value, f"no {path!r} in the JSON line: {line}"
        value = value[key]
    return value


def numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from numbers(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_benchmark_smoke(name, infra, amqp_url):
    table_line, positive, uses_vhost = BENCHMARKS[name]
    # The servers this run found (an unreachable one already failed the `infra` fixture), and its vhost: a new
    # one costs seconds of rabbitmqctl on a busy machine.
    env = {**os.environ, "CERES_TEST_POSTGRES_URL": infra.pg_admin_url,
           "CERES_TEST_AMQP_URL": infra.amqp_base_url}
    command = [sys.executable, str(ROOT / "bench" / f"{name}.py"), "--smoke"]
    if uses_vhost:
        command += ["--amqp-url", amqp_url]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=540)
    said = f"stdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-3000:]}"
    assert done.returncode == 0, said
    lines = done.stdout.strip().splitlines()
    assert len(lines) >= 3, said
    line = json.loads(lines[-1])
    assert isinstance(line, dict), said
    assert any(table_line in row for row in lines[:-1]), f"no table before the JSON line\n{said}"
    for value in numbers(line):
        assert math.isfinite(value), f"{value} in {line}"
    for path in positive:
        value = figure(line, path)
        assert isinstance(value, (int, float)) and math.isfinite(value) and value > 0, f"{path} = {value!r}"
    if name == "bus":  # the bus lost nothing and applied nothing twice, with either handler
        for handler in ("per_event", "batch"):
            assert line[handler]["lost"] == 0 and line[handler]["duplicates"] == 0, line[handler]
            assert all(line[handler][f"cpu_us_per_event_{k}"] >= 0
                       for k in ("producer", "consumer", "postgres", "rabbitmq")), line[handler]
