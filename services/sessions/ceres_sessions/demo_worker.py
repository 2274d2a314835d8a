"""Embedded mode's demo seeder: an extra worker of the runtime that waits for the demo sites, agréments and
candidates to arrive by events (on a first `make run` they come seconds after the sessions service has started),
seeds the demo sessions (demo.py) and stops. In production mode it does nothing."""
from __future__ import annotations

import logging
import threading
import time

from . import demo
from .service_layer import dashboard

log = logging.getLogger(__name__)


class DemoSeeder:
    def __init__(self, rt, interval: float = 1.0, patience: float = 1800.0):
        self.rt = rt
        self.interval = interval
        self.patience = patience  # then it gives up: this platform's establishments hold no demo
        self.stopping = threading.Event()
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            if self.rt.settings.embedded:
                self._wait_and_seed()
        finally:
            self.finished.set()

    def _wait_and_seed(self) -> None:
        deadline = time.monotonic() + self.patience
        attempted: set[str] = set()
        conflicts = False
        while not self.stopping.is_set():
            try:
                # S7's conflict first: the juries are composed around it.
                conflicts = conflicts or demo.seed_conflicts(self.rt)
                if conflicts:
                    done, seeded = demo.seed_sessions(self.rt, attempted)
                    if seeded:
                        dashboard.scan(self.rt)  # B2's warnings now rather than at the scanner's next round
                    if done:
                        log.info("demo sessions ready")
                        return
            except Exception:  # noqa: BLE001 - a database hiccup: try again at the next round
                log.exception("demo seeding failed")
            if time.monotonic() > deadline:
                log.warning("demo sessions not seeded: the demo sites or candidates never arrived")
                return
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()
