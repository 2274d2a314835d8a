"""S10 dashboard counts over 400,000 sessions (ten years at national scale) in PostgreSQL.

    .venv/bin/python bench/sessions_dashboard.py [--quick]

Loads the sessions with COPY into a fresh, migrated sessions database, fixes the service clock at the end of the
period, then times the dashboard use case (counts per status over 12 months, DTE requests, relaxed sessions,
warnings) for an UD, a DREETS and DGEFP. Prints p50/p95 per role, then one JSON line with p95_ms (the worst of the
three). Goal: p95 <= 50 ms. --quick: fewer repetitions (same data volume).
"""
from __future__ import annotations

import argparse
import io
import json
import logging
import random
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "shared"))
sys.path.insert(0, str(ROOT / "services" / "sessions"))

from ceres_shared.auth import Principal  # noqa: E402
from ceres_shared.config import BusSettings, Settings  # noqa: E402
from ceres_shared.testing.infra import discover  # noqa: E402
from ceres_sessions import clock  # noqa: E402
from ceres_sessions.bootstrap import bootstrap  # noqa: E402
from ceres_sessions.service_layer.dashboard import dashboard  # noqa: E402

SESSIONS = 400_000
END = datetime(2025, 1, 1, 9, tzinfo=timezone.utc)
DEPS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
REGIONS = {dep: f"R{i % 13:02d}" for i, dep in enumerate(DEPS)}
COLUMNS = ("id", "public_id", "kind", "titre_code", "titre_version", "site_id", "centre_id", "departement", "region",
           "site_commune_code", "status", "starts_at", "ends_at", "convocation_at", "dte_requested_at",
           "under_relaxation", "created_at", "created_by")


def status_for(start: datetime, rnd: random.Random) -> str:
    age = (END - start).days
    if rnd.random() < 0.04:
        return "annulee"
    if age > 120:
        return "finalisee" if rnd.random() < 0.9 else "validee"
    if age > 0:
        return rnd.choice(("convocations_envoyees", "resultats_saisis", "validee"))
    return rnd.choice(("en_preparation", "en_preparation", "demande_dte_envoyee", "convocations_envoyees"))


def load(rt, count: int) -> float:
    rnd = random.Random(42)
    began = time.perf_counter()
    buffer = io.StringIO()
    span = 10 * 365 * 24 * 3600
    for n in range(count):
        dep = rnd.choice(DEPS)
        start = END - timedelta(seconds=rnd.randrange(span)) + timedelta(days=120)
        start = start.replace(hour=7, minute=0, second=0, microsecond=0)
        status = status_for(start, rnd)
        dte = (start - timedelta(days=100)).isoformat() if status != "en_preparation" else "\\N"
        row = (str(uuid.UUID(int=rnd.getrandbits(128), version=4)), f"TITRE_B_{start.year}_{n:06d}", "TITRE",
               f"TP-{rnd.randrange(1, 260):05d}", "2018-09-20", f"site-{rnd.randrange(40000)}",
               f"centre-{rnd.randrange(20000)}", dep, REGIONS[dep], f"{dep[:2]}001", status, start.isoformat(),
               (start + timedelta(days=2)).isoformat(), start.isoformat(), dte,
               "t" if rnd.random() < 0.01 else "f", (start - timedelta(days=150)).isoformat(), "centre:bench")
        buffer.write("\t".join(row) + "\n")
    raw = rt.engine.raw_connection()
    try:
        with raw.cursor() as cur:
            with cur.copy(f"COPY sessions ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
        raw.commit()
        raw.driver_connection.autocommit = True  # VACUUM: the visibility map autovacuum would have set in production
        with raw.cursor() as cur:
            cur.execute("VACUUM ANALYZE sessions")
    finally:
        raw.close()
    return time.perf_counter() - began


def measure(rt, principal: Principal, repeat: int) -> list[float]:
    timings = []
    with rt.session_factory() as session:
        for i in range(repeat + 5):
            began = time.perf_counter()
            board = dashboard(session, principal)
            elapsed = (time.perf_counter() - began) * 1000
            session.rollback()
            if i >= 5:  # warm-up
                timings.append(elapsed)
    assert sum(c["count"] for c in board["par_statut"]) > 0
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (about a minute)")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    repeat = 60 if args.quick else 300
    infra = discover()
    try:
        settings = Settings(service="sessions", database_url=infra.new_database("bench_sess"),
                            bus=BusSettings(url=infra.amqp_url if hasattr(infra, "amqp_url") else "memory://"),
                            jwks_url=None)
        rt = bootstrap(settings, extra_workers=[])
        rt.upgrade_database()
        loaded = load(rt, SESSIONS)
        clock.fix(END)
        roles = {
            "UD (1 département)": Principal("bench", "ud", departements=frozenset({"69"})),
            "DREETS (1 région)": Principal("bench", "dreets", regions=frozenset({REGIONS["69"]})),
            "DGEFP (national)": Principal("bench", "dgefp", national=True),
        }
        figures = {}
        print(f"{SESSIONS:,} sessions loaded in {loaded:.1f} s; {repeat} dashboards per role")
        print(f"{'role':<22}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
        for label, principal in roles.items():
            timings = sorted(measure(rt, principal, repeat))
            p50 = statistics.median(timings)
            p95 = timings[int(0.95 * (len(timings) - 1))]
            figures[label] = {"p50_ms": round(p50, 2), "p95_ms": round(p95, 2)}
            print(f"{label:<22}{p50:>10.2f}{p95:>10.2f}{timings[-1]:>10.2f}")
        clock.fix(None)
        rt.engine.dispose()
        worst = max(f["p95_ms"] for f in figures.values())
        print(json.dumps({"bench": "sessions_dashboard", "sessions": SESSIONS, "p95_ms": worst, "goal_ms": 50,
                          "roles": figures}))
    finally:
        infra.close()


if __name__ == "__main__":
    main()
