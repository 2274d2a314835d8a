"""The printing service's own settings and clock, attached to its Runtime by bootstrap (`runtime.printing`)."""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class PrintingConfig:
    # Printed in the QR code (B1): the gateway's public root, whose /verification/<number> page checks the code
    # (the embedded gateway by default; the public host in production).
    public_base_url: str = field(default_factory=lambda: os.environ.get(
        "PRINTING_PUBLIC_URL", f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"))
    batch_size: int = field(default_factory=lambda: int(os.environ.get("PRINTING_BATCH_SIZE", "200")))
    batch_max_wait_s: float = field(default_factory=lambda: float(os.environ.get("PRINTING_BATCH_MAX_WAIT_S", "600")))
    batch_poll_s: float = field(default_factory=lambda: float(os.environ.get("PRINTING_BATCH_POLL_S", "5")))
    # Rendering (see rendering.py): worker processes, one per core (0 renders in the builder's thread), files each
    # renders before it is replaced (a worker measured flat at ~165 MB over 100 files; a new one costs ~2 s of CPU
    # to start, so 100 × 24 documents between replacements), documents per PDF file of a
    # batch (from 10 to 80 the cost per document hardly moves; 24 makes a batch of 200 eight files, which two or
    # four workers share evenly), and builder threads (several overlap the database work of one batch with the
    # rendering of another; PostgreSQL only: SQLite has one writer).
    render_workers: int = field(default_factory=lambda: int(os.environ.get(
        "PRINTING_RENDER_WORKERS", str(os.cpu_count() or 1))))
    recycle_after: int = field(default_factory=lambda: int(os.environ.get("PRINTING_RECYCLE_AFTER", "100")))
    file_documents: int = field(default_factory=lambda: int(os.environ.get("PRINTING_FILE_DOCUMENTS", "24")))
    builder_threads: int = field(default_factory=lambda: int(os.environ.get("PRINTING_BUILDER_THREADS", "2")))
    # Tests replace the clock to check the 7-day duplicata rule (P5).
    clock: Callable[[], datetime] = _utcnow

    def now(self) -> datetime:
        return self.clock()


def config_of(runtime) -> PrintingConfig:
    return runtime.printing


def aware(value: datetime | None) -> datetime | None:
    """SQLite (embedded mode) gives back naive datetimes; every time we store is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
