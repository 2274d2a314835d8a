"""Signing keys of the token issuer (identity) and a way to mint tokens: Ed25519 keys with ids, rotated by
adding a new key while the previous ones stay published in the JWKS until their tokens expire. A new key is
published at once but signs only `activation_delay` later, once every service has reread the JWKS
(pre-publication: no service ever meets a token whose key it has not fetched, whatever its refetch limit). A key is
kept by age, until its retirement (its successor's activation) plus the longest lifetime of a token it may have
signed, however many rotations happened meanwhile. Refresh tokens are random strings kept hashed by identity,
not signed by these keys: they do not hold keys back."""
from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .auth import ISSUER, JWKS_MIN_REFETCH, JWKS_REFRESH_INTERVAL

log = logging.getLogger(__name__)

KID_STAMP = "%Y%m%dT%H%M%S"
# Beyond the services' refresh horizon: their periodic reread, a refetch limit that an attacker's unknown kid may
# just have used, and leeway for a slow fetch.
ACTIVATION_DELAY = JWKS_REFRESH_INTERVAL + JWKS_MIN_REFETCH + 30.0


def created_at(kid: str) -> float | None:
    """A key's creation (epoch seconds) from its id (see `rotate`); None for an id of another shape."""
    try:
        stamp = datetime.strptime(kid[:15], KID_STAMP).replace(tzinfo=timezone.utc)
        return stamp.timestamp() + int(kid[15:21]) / 1_000_000
    except ValueError:
        return None


class KeyRing:
    def __init__(self, directory: Path, max_ttl: int = 3600, margin: float = 60.0,
                 activation_delay: float = ACTIVATION_DELAY):
        """`max_ttl`: the longest lifetime of a token this ring signs (issue refuses longer ones); `margin`: kept
        beyond it for the verifiers' leeway and clock skew; `activation_delay`: between a key's publication and its
        first signature."""
        self.directory = Path(directory)
        self.max_ttl, self.margin, self.activation_delay = max_ttl, margin, activation_delay
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self._pem_files():
            self.rotate()  # the first key signs at once: no service holds an older one

    def _pem_files(self) -> list[Path]:
        # Key ids start with their UTC creation time, so name order is age order (mtimes of mounted secrets lie).
        return sorted(self.directory.glob("*.pem"), key=lambda p: p.stem)

    def rotate(self) -> str:
        # Seconds then microseconds of one clock reading: two keys made in the same second still sort by age.
        ns = time.time_ns()
        stamp = time.strftime(KID_STAMP, time.gmtime(ns // 1_000_000_000))
        kid = f"{stamp}{ns // 1000 % 1_000_000:06d}-{uuid.uuid4().hex[:6]}"
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        path = self.directory / f"{kid}.pem"
        path.write_bytes(pem)
        path.chmod(0o600)
        published = set(self._published())
        for old in self._pem_files():
            if old not in published:
                old.unlink(missing_ok=True)  # no token it signed is still valid: its private key goes
                log.info("signing key %s dropped (retired longer than the tokens it signed live)", old.stem)
        log.info("signing key %s published, signs in %.0f s", kid,
                 max(0.0, self._active_from(path, self._pem_files()) - time.time()))
        return kid

    def _load(self, path: Path):
        return serialization.load_pem_private_key(path.read_bytes(), password=None)

    def _active_from(self, path: Path, files: list[Path]) -> float:
        """When a key starts signing: its creation + activation_delay; the oldest key on disk (the first one, or
        the one whose predecessors were dropped) signs already."""
        created = created_at(path.stem)
        if path == files[0] or created is None:
            return float("-inf")
        return created + self.activation_delay

    @property
    def current_kid(self) -> str:
        """The signing key: the newest active one (a newer one may be published already, not yet signing)."""
        files = self._pem_files()
        current = time.time()
        return [p for p in files if self._active_from(p, files) <= current][-1].stem

    def _published(self) -> list[Path]:
        """The newest key (perhaps not signing yet), and every previous one until the last token it may have signed
        has expired (its successor's activation + the longest token lifetime)."""
        files = self._pem_files()
        current = time.time()
        kept = []
        for path, successor in zip(files, files[1:]):
            retired = self._active_from(successor, files)
            if created_at(successor.stem) is None or current < retired + self.max_ttl + self.margin:
                kept.append(path)
        return [*kept, files[-1]]

    def jwks(self) -> dict:
        """Public keys of the current key and of the retired ones whose tokens may still be valid."""
        keys = []
        for path in self._published():
            public = self._load(path).public_key()
            jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(public))
            jwk.update({"kid": path.stem, "use": "sig", "alg": "EdDSA"})
            keys.append(jwk)
        return {"keys": keys}

    def issue(self, subject: str, role: str, *, scope: dict | None = None, name: str | None = None,
              audience: str = "ceres", ttl: int = 900, extra: dict | None = None) -> str:
        if ttl > self.max_ttl:  # the key would leave the JWKS before the token expires
            raise ValueError(f"token lifetime {ttl} s beyond the ring's max_ttl {self.max_ttl} s")
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": audience, "sub": subject, "role": role, "scope": scope or {},
                  "iat": now, "nbf": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
        if name:
            claims["name"] = name
        claims.update(extra or {})
        kid = self.current_kid
        return jwt.encode(claims, self._load(self.directory / f"{kid}.pem"), algorithm="EdDSA",
                          headers={"kid": kid})
