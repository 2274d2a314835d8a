"""Printing benchmark: documents per second rendered one per file (plain WeasyPrint use of our templates) versus
batches built by the service (several documents per pli file, manifests, zip), on a SQLite database in a
temporary folder (the rendering dominates; the database is not what is measured here).

    .venv/bin/python bench/printing.py [--quick] [--candidates N]

Prints a table, then one JSON line: docs_per_s (batch builder), plain_docs_per_s (one per file), peak_rss_mb.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="~1 minute")
    parser.add_argument("--candidates", type=int, default=None)
    args = parser.parse_args()
    n = args.candidates or (60 if args.quick else 400)

    tmp = Path(tempfile.mkdtemp(prefix="ceres-bench-printing-"))
    os.environ.setdefault("CERES_FONTS_DIR", str(Path(__file__).resolve().parents[1] / "var" / "fonts"))
    from ceres_printing import samples, services
    from ceres_printing.batches import build_due_batches
    from ceres_printing.bootstrap import bootstrap
    from ceres_printing.config import PrintingConfig
    from ceres_printing import documents
    from ceres_printing.models import Candidacy, Document
    from ceres_shared.auth import Principal
    from ceres_shared.config import BusSettings, Settings
    from ceres_shared.documents import warm_up
    from ceres_shared.events import make_envelope, parse_envelope
    from sqlalchemy import select
    import logging

    logging.disable(logging.INFO)
    rt = bootstrap(Settings(service="printing", database_url=f"sqlite:///{tmp / 'printing.db'}",
                            bus=BusSettings(url="filesystem://"), jwks_url=None),
                   printing=PrintingConfig(batch_size=10_000, batch_max_wait_s=0))
    rt.upgrade_database()

    def deliver(event_type, payload):
        env = parse_envelope(make_envelope(event_type, payload, producer="bench").to_json())
        with rt.session_factory.begin() as db:
            for handler in rt.handlers[event_type]:
                handler(db, env)

    deliver("titre.published", samples.TITRE)
    deliver("site.created", samples.site("bench-site"))
    decisions = ["titre", "titre", "partiel", "ajourne"]
    for i in range(n):
        deliver("candidate.registered", samples.candidate(10_000 + i, f"NOM{i}", "Prénom"))
    per_session = 12
    for s in range(0, n, per_session):
        ids = range(10_000 + s, 10_000 + min(s + per_session, n))
        deliver("session.validated", samples.session_validated(
            f"bench-{s}", "bench-site", [(cid, decisions[cid % 4], ["CCP-01"]) for cid in ids]))
    agent = Principal(subject="bench", role="ud", departements=frozenset({"75"}))
    with rt.session_factory.begin() as db:
        for candidacy in db.scalars(select(Candidacy)):
            services.verify(rt, db, agent, candidacy)
            services.request_print(rt, db, agent, candidacy, "initial")
    warm_up()

    # Plain: the same templates, one PDF per document.
    with rt.session_factory.begin() as db:
        items = []
        for candidacy in db.scalars(select(Candidacy).limit(max(8, n // 4))):
            parts = documents.load_parts(db, candidacy)
            for doc in db.scalars(select(Document).where(Document.candidacy_id == candidacy.id)):
                items.append((doc.kind, documents.context(db, parts, doc, public_base="https://x", now=rt.printing.now())))
    timings = []
    started = time.perf_counter()
    for kind, ctx in items:
        t0 = time.perf_counter()
        documents.render(kind, ctx, artwork=True)
        timings.append(time.perf_counter() - t0)
    plain_docs_per_s = len(items) / (time.perf_counter() - started)

    started = time.perf_counter()
    built = build_due_batches(rt, force=True)
    elapsed = time.perf_counter() - started
    with rt.session_factory() as db:
        total_docs = len(db.scalars(select(Document)).all())
    docs_per_s = total_docs / elapsed
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    rows = [
        ("candidates", n), ("documents in batches", total_docs), ("batches", len(built)),
        ("batch build time (s)", f"{elapsed:.1f}"), ("batch docs/s (one pli per file)", f"{docs_per_s:.1f}"),
        ("plain docs/s (one document per file)", f"{plain_docs_per_s:.1f}"),
        ("plain per document median / p95 (ms)",
         f"{statistics.median(timings) * 1000:.0f} / {statistics.quantiles(timings, n=20)[-1] * 1000:.0f}"),
        ("peak RSS (MB)", f"{peak_rss_mb:.0f}"),
    ]
    width = max(len(r[0]) for r in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print(json.dumps({"docs_per_s": round(docs_per_s, 2), "plain_docs_per_s": round(plain_docs_per_s, 2),
                      "peak_rss_mb": round(peak_rss_mb, 1), "documents": total_docs, "at":
                      datetime.now(timezone.utc).isoformat()}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
