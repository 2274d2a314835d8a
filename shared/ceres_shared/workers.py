"""Periodic background loops of a service (Runtime.extra_workers): deadline scans, job chunks, mail sending."""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PeriodicWorker:
    """Calls `tick()` every `interval` seconds, and again at once while it reports more work; an error is logged
    and the loop goes on (a database restart must not kill the worker)."""

    interval: float = 1.0

    def __init__(self, rt, interval: float | None = None):
        self.rt = rt
        if interval is not None:
            self.interval = interval
        self.stopping = threading.Event()

    def tick(self) -> bool:
        """One pass; True when there may be more to do right away."""
        raise NotImplementedError

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.tick()
            except Exception:  # noqa: BLE001 - keep looping after a hiccup
                log.exception("%s failed", type(self).__name__)
                busy = False
            if not busy:
                self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
