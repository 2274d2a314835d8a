"""E6 search latency over 20,000 centres + 40,000 sites in PostgreSQL, through HTTP (real server on loopback).

    .venv/bin/python bench/establishments_search.py [--quick]
    .venv/bin/python bench/establishments_search.py --smoke    # 200 centres, 400 sites, 5 queries: seconds

Prints p50/p95 per kind of query (SIRET, SIREN, name words), as a national agent and as an UD, then one JSON line
with p95_ms (the worst kind, seen by the HTTP client). Goal: p95 <= 25 ms.

The server runs in a process of its own (the client's Python does not share its GIL); the kinds are interleaved
(a burst of load from elsewhere on the machine falls on all of them alike). Each row also gives the time spent
in the service (WSGI call, measured in the server process) and a floor row — GET /healthz, no token, no database —
that shows what HTTP on this machine costs at the moment: on a shared machine under load, that floor moves.
"""
from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
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

SERVICE_HEADER = "X-Bench-Service-Ms"


def timed(app):
    """WSGI wrapper: the service's own time for a request (until its response starts), in a header."""
    def call(environ, start_response):
        started = time.perf_counter()

        def start(status, headers, exc_info=None):
            headers.append((SERVICE_HEADER, f"{(time.perf_counter() - started) * 1000:.3f}"))
            return start_response(status, headers, exc_info)

        return app(environ, start)
    return call


def serve(settings: Settings, jwks: dict, port_pipe) -> None:
    """The service alone in this process, as a deployment would run it."""
    logging.disable(logging.INFO)
    server = make_server("127.0.0.1", 0, timed(create_app(bootstrap(settings, jwks=jwks))), threaded=True)
    port_pipe.send(server.server_port)
    server.serve_forever()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer queries (~1 minute)")
    parser.add_argument("--smoke", action="store_true", help="200 centres, 400 sites, 5 queries: seconds (make test)")
    parser.add_argument("--centres", type=int)
    parser.add_argument("--sites", type=int)
    args = parser.parse_args()
    args.centres = args.centres or (200 if args.smoke else 20_000)
    args.sites = args.sites or (400 if args.smoke else 40_000)
    queries = 5 if args.smoke else 100 if args.quick else 500
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
        runtime.engine.dispose()  # the server process opens its own connections
        receive, send = multiprocessing.Pipe(duplex=False)
        server = multiprocessing.get_context("fork").Process(target=serve, args=(settings, keys.jwks(), send),
                                                             daemon=True)
        server.start()
        base = f"http://127.0.0.1:{receive.recv()}"
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
        series = {(actor, kind): ([], []) for actor in who for kind in kinds}
        series[("floor", "healthz")] = ([], [])

        def call(key, path, params=None, headers=None):
            t0 = time.perf_counter()
            response = http.get(base + path, params=params, headers=headers)
            elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, response.text
            if key is not None:
                series[key][0].append(elapsed)
                series[key][1].append(float(response.headers[SERVICE_HEADER]))

        for actor, token in who.items():  # warm-up: connections, prepared statements, caches
            for make in kinds.values():
                for _ in range(5):
                    call(None, "/search", {"q": make()}, {"Authorization": f"Bearer {token}"})
        for _ in range(queries):
            for actor, token in who.items():
                for kind, make in kinds.items():
                    call((actor, kind), "/search", {"q": make()}, {"Authorization": f"Bearer {token}"})
            call(("floor", "healthz"), "/healthz")
        server.terminate()
        server.join(10)
    finally:
        infra.close()
    rows, worst, worst_service = [], 0.0, 0.0
    for (actor, kind), (client, service) in series.items():
        row = (actor, kind, len(client), statistics.median(client), percentile(client, 0.95),
               statistics.median(service), percentile(service, 0.95))
        rows.append(row)
        if actor != "floor":
            worst, worst_service = max(worst, row[4]), max(worst_service, row[6])
    print(f"data: {args.centres} centres, {args.sites} sites, {data['agrements']} agréments, loaded in {loaded:.1f}s")
    print(f"{'who':<10}{'query':<9}{'n':>5}{'HTTP p50':>10}{'HTTP p95':>10}{'svc p50':>10}{'svc p95':>10}  (ms)")
    for actor, kind, n, p50, p95, s50, s95 in rows:
        print(f"{actor:<10}{kind:<9}{n:>5}{p50:>10.2f}{p95:>10.2f}{s50:>10.2f}{s95:>10.2f}")
    print(json.dumps({"bench": "establishments_search", "centres": args.centres, "sites": args.sites,
                      "queries_per_kind": queries, "p95_ms": round(worst, 2), "service_p95_ms": round(worst_service, 2),
                      **{f"{a}_{k}_p50_ms": round(p50, 2) for a, k, _, p50, _, _, _ in rows},
                      **{f"{a}_{k}_p95_ms": round(p95, 2) for a, k, _, _, p95, _, _ in rows},
                      **{f"{a}_{k}_service_p95_ms": round(s95, 2) for a, k, _, _, _, _, s95 in rows}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
