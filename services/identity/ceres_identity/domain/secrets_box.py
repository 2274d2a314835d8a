"""Secrets at rest: activation codes sealed with AES-GCM (key derived from CERES_SECRET_KEY by HKDF, the SIRET
as associated data so a sealed code cannot be moved to another centre); links and refresh tokens kept only as
SHA-256 hashes (they are long random strings, so a fast hash is enough)."""
from __future__ import annotations

import hashlib
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class CodeBox:
    def __init__(self, secret_key: str):
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"ceres-identity activation codes v1").derive(secret_key.encode())
        self._aead = AESGCM(key)

    def seal(self, code: str, siret: str) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, code.encode(), siret.encode())

    def open(self, sealed: bytes, siret: str) -> str:
        return self._aead.decrypt(sealed[:12], sealed[12:], siret.encode()).decode()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
