"""P6: print requests grouped into batches for the Afpa, by size and by time.

A batch is a zip: print-ready PDF files of about `file_documents` documents each (laid out together, which is many
times faster than one file per document), `manifest.json` and `manifest.csv` (per document: type, unique number,
pli — the envelope, i.e. one request's documents, never split over two files —, addressee, postal address, file,
first page and page count), and `SHA256SUMS`. The zip's SHA-256 is stored to be checked by the Afpa.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import secrets
import threading
import zipfile

from sqlalchemy import select

from . import documents, verification
from .config import aware
from .domain.rules import DOCUMENT_LABELS
from .models import (Batch, Candidacy, CandidateCopy, Document, PrintItem, PrintRequest, TitreCopy,
                     ValidatedSession)

log = logging.getLogger(__name__)
CSV_FIELDS = ("document_number", "document_type", "label", "request_kind", "candidate_id", "session", "pli",
              "routed_to", "addressee", "address_lines", "code_postal", "commune", "country", "file", "first_page",
              "pages")


def build_due_batches(rt, *, force: bool = False) -> list[str]:
    """Build every batch that is due: full (batch_size items) or holding an item older than batch_max_wait_s.
    `force` builds whatever is queued (end of day, tests)."""
    cfg = rt.printing
    built = []
    while True:
        with rt.session_factory.begin() as db:
            # SKIP LOCKED: two workers never put the same item in two batches (ignored by SQLite, one writer).
            queued = db.scalars(select(PrintItem).where(PrintItem.batch_id.is_(None)).order_by(PrintItem.id)
                                .limit(cfg.batch_size).with_for_update(skip_locked=True)).all()
            if not queued:
                return built
            age = (cfg.now() - aware(queued[0].created_at)).total_seconds()
            if not force and len(queued) < cfg.batch_size and age < cfg.batch_max_wait_s:
                return built
            built.append(_build(rt, db, queued))


def _build(rt, db, queued: list[PrintItem]) -> str:
    now = rt.printing.now()
    batch_id = f"LOT-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3).upper()}"
    plis: dict[int, list[PrintItem]] = {}
    seen: set[str] = set()
    for item in queued:
        if item.document_number in seen:
            continue  # the same document twice in one batch waits for the next one
        seen.add(item.document_number)
        plis.setdefault(item.request_id, []).append(item)
    db.add(Batch(id=batch_id, created_at=now, status="building", item_count=0, sha256="", archive=b""))
    db.flush()
    # Load the rows in a few queries and keep them referenced: the session's identity map holds its objects weakly,
    # so db.get below (in load_parts too) finds them only while this list lives — else one query per row.
    requests = db.scalars(select(PrintRequest).where(PrintRequest.id.in_(plis))).all()
    candidacies = db.scalars(select(Candidacy).where(Candidacy.id.in_({r.candidacy_id for r in requests}))).all()
    sessions = db.scalars(select(ValidatedSession).where(
        ValidatedSession.session_id.in_({c.session_id for c in candidacies}))).all()
    loaded = [*requests, *candidacies, *sessions, *db.scalars(select(Document).where(Document.number.in_(seen))),
              *db.scalars(select(CandidateCopy).where(
                  CandidateCopy.candidate_id.in_({c.candidate_id for c in candidacies}))),
              *db.scalars(select(TitreCopy).where(TitreCopy.code.in_({s.titre_code for s in sessions})))]
    key = verification.current_key(db, now)
    events = []
    # Files of about `file_documents` documents, a pli (one envelope: a request's documents) never split.
    files: list[list[tuple[dict, tuple[str, dict]]]] = [[]]
    for pli, (request_id, items) in enumerate(sorted(plis.items()), start=1):
        request = db.get(PrintRequest, request_id)
        candidacy = db.get(Candidacy, request.candidacy_id)
        parts = documents.load_parts(db, candidacy)
        if files[-1] and len(files[-1]) + len(items) > rt.printing.file_documents:
            files.append([])
        for item in items:
            doc = db.get(Document, item.document_number)
            # P5: a livret's duplicata is a plain reprint; P7: a resend is not a duplicata.
            duplicata = request.kind == "duplicata" and doc.kind != "livret"
            ctx = documents.context(db, parts, doc, public_base=rt.printing.public_base_url, now=now,
                                    duplicata=duplicata, address=parts.candidate.address, key=key)
            item.batch_id = batch_id
            files[-1].append(({
                "document_number": doc.number, "document_type": doc.kind, "label": DOCUMENT_LABELS[doc.kind],
                "request_kind": request.kind, "candidate_id": candidacy.candidate_id,
                "session": parts.session.public_id, "pli": pli, "routed_to": item.routed_to,
                "addressee": item.addressee, "address": item.address}, (doc.kind, ctx)))
            events.append(("print.batch_ready", {
                "candidate_id": candidacy.candidate_id, "document_number": doc.number, "document_type": doc.kind,
                "status": "requested", "batch_id": batch_id, "session_id": candidacy.session_id}, 1))
    rt.outbox.record_many(db, events)
    del loaded
    rendered = rt.render_pool.render([[rendering for _, rendering in file] for file in files])
    manifest, contents = [], {}
    for n, (file, result) in enumerate(zip(files, rendered), start=1):
        name = f"lot-{n:04d}.pdf"
        contents[name] = result.data
        for (row, _), (first, count) in zip(file, result.pages):
            manifest.append({**row, "file": name, "first_page": first + 1, "pages": count})
    archive = _zip(batch_id, now, manifest, contents)
    batch = db.get(Batch, batch_id)
    batch.status, batch.item_count, batch.archive = "ready", len(manifest), archive
    batch.sha256 = hashlib.sha256(archive).hexdigest()
    rt.audit.record(db, entity_type="batch", entity_id=batch_id, action="build", actor="batch-builder",
                    after={"documents": len(manifest), "plis": len(plis), "files": len(contents),
                           "sha256": batch.sha256})
    log.info("batch %s: %d documents, %d plis, %d files", batch_id, len(manifest), len(plis), len(contents))
    return batch_id


def _zip(batch_id, now, manifest, files) -> bytes:
    out = io.BytesIO()
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps({"batch_id": batch_id, "created_at": now.isoformat(),
                                                  "documents": manifest, "files": sums},
                                                 ensure_ascii=False, indent=1))
        zf.writestr("manifest.csv", _csv(manifest))
        zf.writestr("SHA256SUMS", "".join(f"{digest}  {name}\n" for name, digest in sorted(sums.items())))
        for name, data in files.items():
            zf.writestr(name, data, compress_type=zipfile.ZIP_STORED)  # PDFs are compressed already
    return out.getvalue()


def _csv(manifest) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, delimiter=";")
    writer.writeheader()
    for row in manifest:
        address = row["address"]
        writer.writerow({**{k: row[k] for k in CSV_FIELDS if k in row}, "address_lines": " / ".join(address["lines"]),
                         "code_postal": address["code_postal"], "commune": address["commune_label"],
                         "country": address.get("country") or "FRANCE"})
    return buffer.getvalue()


class BatchBuilder:
    """Extra worker (Runtime.extra_workers): builds due batches every batch_poll_s seconds, in `builder_threads`
    threads on PostgreSQL (SKIP LOCKED shares the queue out), one on SQLite."""

    def __init__(self, rt):
        self.rt = rt
        self.stopping = threading.Event()

    def run(self) -> None:
        self.rt.render_pool.start()
        threads = self.rt.printing.builder_threads if self.rt.engine.dialect.name == "postgresql" else 1
        helpers = [threading.Thread(target=self._loop, name=f"printing-batches-{n}", daemon=True)
                   for n in range(1, threads)]
        for helper in helpers:
            helper.start()
        self._loop()
        for helper in helpers:
            helper.join()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                build_due_batches(self.rt)
            except Exception:  # noqa: BLE001 - a failed build rolls back; the items wait for the next round
                log.exception("batch build failed")
            self.stopping.wait(self.rt.printing.batch_poll_s)

    def stop(self) -> None:
        self.stopping.set()
        self.rt.render_pool.shutdown()
