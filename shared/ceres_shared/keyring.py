"""Signing keys of the token issuer (identity) and a way to mint tokens: Ed25519 keys with ids, rotated by
adding a new current key while the previous ones stay published in the JWKS until their tokens expire."""
from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .auth import ISSUER


class KeyRing:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self._pem_files():
            self.rotate()

    def _pem_files(self) -> list[Path]:
        # Key ids start with their UTC creation time, so name order is age order (mtimes of mounted secrets lie).
        return sorted(self.directory.glob("*.pem"), key=lambda p: p.stem)

    def rotate(self) -> str:
        # Seconds then microseconds of one clock reading: two keys made in the same second still sort by age.
        ns = time.time_ns()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 1_000_000_000))
        kid = f"{stamp}{ns // 1000 % 1_000_000:06d}-{uuid.uuid4().hex[:6]}"
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        path = self.directory / f"{kid}.pem"
        path.write_bytes(pem)
        path.chmod(0o600)
        return kid

    def _load(self, path: Path):
        return serialization.load_pem_private_key(path.read_bytes(), password=None)

    @property
    def current_kid(self) -> str:
        return self._pem_files()[-1].stem

    def jwks(self, keep: int = 3) -> dict:
        """Public keys of the current and the previous keys."""
        keys = []
        for path in self._pem_files()[-keep:]:
            public = self._load(path).public_key()
            jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(public))
            jwk.update({"kid": path.stem, "use": "sig", "alg": "EdDSA"})
            keys.append(jwk)
        return {"keys": keys}

    def issue(self, subject: str, role: str, *, scope: dict | None = None, name: str | None = None,
              audience: str = "ceres", ttl: int = 900, extra: dict | None = None) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": audience, "sub": subject, "role": role, "scope": scope or {},
                  "iat": now, "nbf": now, "exp": now + ttl, "jti": uuid.uuid4().hex}
        if name:
            claims["name"] = name
        claims.update(extra or {})
        kid = self.current_kid
        return jwt.encode(claims, self._load(self.directory / f"{kid}.pem"), algorithm="EdDSA",
                          headers={"kid": kid})
