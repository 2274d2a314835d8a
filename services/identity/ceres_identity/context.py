"""Identity's parts beside the platform Runtime: its config, password hasher, code sealing, signing keys.

Attached to the runtime as `runtime.identity` by `bootstrap`; tests call `configure` again to lower the argon2
cost or to sign with the test issuer's keys.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from ceres_shared.keyring import KeyRing
from ceres_shared.runtime import Runtime

from .config import IdentityConfig
from .domain.passwords import Passwords
from .domain.secrets_box import CodeBox


@dataclass
class Identity:
    config: IdentityConfig
    passwords: Passwords
    codes: CodeBox
    keyring: KeyRing
    secret_key: str


def configure(runtime: Runtime, config: IdentityConfig | None = None, keyring: KeyRing | None = None) -> Identity:
    config = config or IdentityConfig.from_env(runtime.settings)
    config.check_hashing()
    runtime.identity = Identity(
        config=config,
        passwords=Passwords(config.argon2_time_cost, config.argon2_memory_kib, config.argon2_parallelism),
        codes=CodeBox(runtime.settings.secret_key),
        keyring=keyring or KeyRing(config.keys_dir, max_ttl=config.max_token_ttl),
        secret_key=runtime.settings.secret_key,
    )
    return runtime.identity


def now() -> datetime:
    return datetime.now(timezone.utc)


def aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; every instant of ours is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
