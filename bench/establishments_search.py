"""E6 search latency over 20,000 centres + 40,000 sites in PostgreSQL, through HTTP (real server on loopback).

    .venv/bin/python bench/establishments_search.py [--quick]

Prints p50/p95 per kind of query (SIRET, SIREN, name words), as a national agent and as an UD, then one JSON line
with p95_ms (the worst kind). Goal: p95 <= 25 ms.
"""
from __future__ import annotations

import argparse
import json
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT / "services" / "establishments"))

from ceres_shared.communes import build  # noqa: E402
from ceres_shared.config import BusSettings, Settings  # noqa: E402
from ceres_shared.keyring import KeyRing  # noqa: E402
from ceres_shared.testing.infra import discover  # noqa: E402
from ceres_establishments.app import create_app  # noqa: E402
from ceres_establishments.bootstrap import bootstrap  # noqa: E402
from ceres_establishments.scale_data import generate  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer queries (~1 minute)")
    parser.add_argument("--centres", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=40_000)
    args = parser.parse_args()
    queries = 100 if args.quick else 500
    logging.disable(logging.INFO)
    build()
    infra = discover()
    try:
        keys = KeyRing(Path(tempfile.mkdtemp(prefix="bench-keys-")))
        settings = Settings(service="establishments", database_url=infra.new_database("bench_est"),
                            bus=BusSettings(url="amqp://guest:guest@127.0.0.1:1/"), jwks_url=None)
        runtime = bootstrap(settings, jwks=keys.jwks())
        runtime.upgrade_database()
        started = time.perf_counter()
        data = generate(runtime.engine, args.centres, args.sites)
        with runtime.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE centres")  # what autovacuum does after a bulk load
            conn.exec_driver_sql("VACUUM ANALYZE sites")
        loaded = time.perf_counter() - started
        server = make_server("127.0.0.1", 0, create_app(runtime), threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}/search"
        rng = random.Random(7)
        centres = data["centres"]
        kinds = {
            "siret": lambda: rng.choice(centres)["siret"],
            "siren": lambda: rng.choice(centres)["siret"][:9],
            "words": lambda: " ".join(rng.choice(centres)["raison_sociale"].split()[-2:]).lower(),
        }
        who = {"national": keys.issue("bench", "dgefp"),
               "ud": keys.issue("bench-ud", "ud", scope={"departements": ["69"]})}
        http = requests.Session()
        rows, worst = [], 0.0
        for actor, token in who.items():
            headers = {"Authorization": f"Bearer {token}"}
            for kind, make in kinds.items():
                http.get(base, params={"q": make()}, headers=headers)  # warm-up
                timings = []
                for _ in range(queries):
                    t0 = time.perf_counter()
                    response = http.get(base, params={"q": make()}, headers=headers)
                    timings.append((time.perf_counter() - t0) * 1000)
                    assert response.status_code == 200, response.text
                p50, p95 = statistics.median(timings), percentile(timings, 0.95)
                worst = max(worst, p95)
                rows.append((actor, kind, len(timings), p50, p95))
        server.shutdown()
    finally:
        infra.close()
    print(f"data: {args.centres} centres, {args.sites} sites, {data['agrements']} agréments, loaded in {loaded:.1f}s")
    print(f"{'who':<10}{'query':<8}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}")
    for actor, kind, n, p50, p95 in rows:
        print(f"{actor:<10}{kind:<8}{n:>6}{p50:>10.2f}{p95:>10.2f}")
    print(json.dumps({"bench": "establishments_search", "centres": args.centres, "sites": args.sites,
                      "queries_per_kind": queries, "p95_ms": round(worst, 2),
                      **{f"{a}_{k}_p50_ms": round(p50, 2) for a, k, _, p50, _ in rows},
                      **{f"{a}_{k}_p95_ms": round(p95, 2) for a, k, _, _, p95 in rows}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
