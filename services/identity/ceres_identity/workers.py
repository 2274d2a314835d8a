"""Background loops of the identity service, run beside the relay and the consumer (Runtime.extra_workers)."""
from __future__ import annotations

import logging
import threading

from .service_layer.accounts import purge_expired
from .service_layer.mail import MailSender

__all__ = ["MailSender", "Purger"]
log = logging.getLogger(__name__)


class Purger:
    """I1: pending accounts whose 24-hour activation link expired are removed, so sign-up can start again."""

    def __init__(self, runtime):
        self.runtime = runtime
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.wait(self.runtime.identity.config.purge_interval):
            try:
                count = purge_expired(self.runtime)
                if count:
                    log.info("purged %s account(s) never activated", count)
            except Exception:  # noqa: BLE001 - try again next time
                log.exception("purge pass failed")

    def stop(self) -> None:
        self._stop.set()
