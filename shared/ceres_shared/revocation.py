"""Access tokens ended before they expire (L1). At log-out, identity revokes the token presented (its jti) and cuts
off the account: its access tokens issued in an earlier second are refused (a copy of an older one too); the same
cut-off when identity ends every log-in of an account. Kept as long as such a token could live. Each service reads
identity's list every few seconds (one small request, not one per call) and refuses those tokens with 401: a copied
token stops working once its owner has signed out."""
from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import requests

log = logging.getLogger(__name__)
PATH = "/internal/revocations"  # identity's; never routed by the gateway
JWKS_PATH = "/.well-known/jwks.json"


class Revocations:
    """identity's list — {"subjects": {subject: cut-off, epoch seconds}, "tokens": [jti…]} — from `fetch`, reread at
    most every `interval` seconds. If identity cannot be read, the last list stands (the signature and the expiry
    of tokens are still checked)."""

    def __init__(self, fetch: Callable[[], dict], interval: float = 5.0):
        self.fetch, self.interval = fetch, interval
        self._lock = threading.Lock()
        self._subjects: dict[str, int] = {}
        self._tokens: frozenset[str] = frozenset()
        self._read_at = float("-inf")

    @classmethod
    def from_url(cls, url: str, interval: float = 5.0) -> "Revocations":
        def fetch() -> dict:
            answer = requests.get(url, timeout=2)
            answer.raise_for_status()
            return answer.json()

        return cls(fetch, interval)

    def _read(self) -> None:
        with self._lock:
            if time.monotonic() - self._read_at < self.interval:
                return
            self._read_at = time.monotonic()  # one attempt per interval, even when it fails
            try:
                listed = self.fetch()
                self._subjects = {str(k): int(v) for k, v in listed["subjects"].items()}
                self._tokens = frozenset(str(t) for t in listed["tokens"])
            except Exception as exc:  # noqa: BLE001 - an unreachable identity must not stop the service
                log.warning("token revocations not read (%s): the last list stands", exc)

    def refused(self, principal) -> bool:
        self._read()
        if principal.token_id is not None and principal.token_id in self._tokens:
            return True
        cutoff = self._subjects.get(principal.subject)
        return cutoff is not None and (principal.issued_at is None or principal.issued_at < cutoff)


def for_settings(settings) -> Revocations | None:
    """Identity's list next to its JWKS (CERES_REVOCATIONS_URL overrides it); None without either (tests that
    give keys directly)."""
    url = os.environ.get("CERES_REVOCATIONS_URL")
    if not url and settings.jwks_url and settings.jwks_url.endswith(JWKS_PATH):
        url = settings.jwks_url.removesuffix(JWKS_PATH) + PATH
    if not url:
        return None
    return Revocations.from_url(url, float(os.environ.get("CERES_REVOCATIONS_INTERVAL", "5")))
