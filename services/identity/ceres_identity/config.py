"""Identity's own settings (beyond the platform's): hashing cost, token lifetimes, limits, mail, public URL.

Read once from the environment; weak argon2 parameters are refused outside tests (CERES_TESTING=1).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ceres_shared.config import ConfigError, Settings, var_dir

# OWASP's floor for argon2id: 19 MiB, 2 passes.
MIN_MEMORY_KIB = 19 * 1024
MIN_TIME_COST = 2


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class IdentityConfig:
    public_url: str  # the gateway's /api/identity: where the API links of the mails point
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024
    argon2_parallelism: int = 2
    access_ttl: int = 900  # 15 minutes
    dev_token_ttl: int = 3600  # embedded mode's demonstration tokens (keys_api.py)
    refresh_ttl: int = 14 * 24 * 3600
    refresh_grace: int = 30  # a just-rotated refresh token still gives its successor (concurrent pages, workers)
    activation_ttl: int = 24 * 3600  # I1: the link works for 24 hours
    reset_ttl: int = 3600
    agent_setup_ttl: int = 72 * 3600
    invitation_ttl: int = 7 * 24 * 3600
    # M2: wrong passwords cost growing waits (login_first_delay, doubled each time, up to login_max_delay), never a
    # block the rightful user cannot wait out; failures are forgotten after failure_memory without one.
    login_max_failures: int = 5  # free failures per email from one address
    login_account_max_failures: int = 20  # per email from all addresses together (an attack spread out)
    login_first_delay: int = 1
    login_max_delay: int = 15 * 60
    failure_memory: int = 3600
    ip_max_requests: int = 30  # per address and action within ip_window (log-in: free failures, then waits)
    ip_window: int = 15 * 60
    attach_max_failures: int = 5  # I2: wrong activation codes per account before a temporary block
    attach_block: int = 30 * 60
    attach_ip_max_failures: int = 20  # M8: per address, whatever the accounts, then growing waits
    pow_bits: int = 16  # sign-up proof of work (leading zero bits of sha256)
    signup_min_seconds: float = 3.0  # time trap: a human takes longer than this to fill the form
    signup_max_seconds: int = 3600
    smtp_url: str | None = None
    mail_from: str = "CERES <no-reply@ceres.emploi.gouv.fr>"
    mail_dir: Path | None = None
    mail_poll: float = 2.0
    purge_interval: float = 600.0
    keys_dir: Path | None = None
    trust_proxy: bool = False
    web_url: str | None = None  # the gateway's web pages (log-in, new password); else derived from public_url

    @property
    def max_token_ttl(self) -> int:
        """The longest lifetime of a token signed by the key ring: a retired key stays published that long (L4)."""
        return max(self.access_ttl, self.dev_token_ttl)

    @property
    def web_base(self) -> str:
        """Where a person's links open a page: the gateway's root, not identity's API (its pages run no script
        under the gateway's Content-Security-Policy)."""
        return (self.web_url or self.public_url.rstrip("/").removesuffix("/api/identity")).rstrip("/")

    @classmethod
    def from_env(cls, settings: Settings) -> "IdentityConfig":
        default_url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/api/identity"  # the embedded gateway
        cfg = cls(
            public_url=os.environ.get("IDENTITY_PUBLIC_URL", default_url).rstrip("/"),
            argon2_time_cost=_int("IDENTITY_ARGON2_TIME_COST", 3),
            argon2_memory_kib=_int("IDENTITY_ARGON2_MEMORY_KIB", 64 * 1024),
            argon2_parallelism=_int("IDENTITY_ARGON2_PARALLELISM", 2),
            access_ttl=_int("IDENTITY_ACCESS_TTL", 900),
            refresh_grace=_int("IDENTITY_REFRESH_GRACE", 30),
            pow_bits=_int("IDENTITY_POW_BITS", 16),
            smtp_url=os.environ.get("SMTP_URL") or None,
            mail_from=os.environ.get("MAIL_FROM", cls.mail_from),
            mail_dir=var_dir() / "mail",
            keys_dir=Path(os.environ.get("IDENTITY_KEYS_DIR", var_dir() / "keys")),
            trust_proxy=os.environ.get("IDENTITY_TRUST_PROXY") == "1",
            web_url=os.environ.get("IDENTITY_WEB_URL") or None,
        )
        if not settings.embedded and not cfg.smtp_url and os.environ.get("CERES_TESTING") != "1":
            raise ConfigError("SMTP_URL is required in production mode")
        cfg.check_hashing()
        return cfg

    def check_hashing(self) -> None:
        weak = self.argon2_memory_kib < MIN_MEMORY_KIB or self.argon2_time_cost < MIN_TIME_COST
        if weak and os.environ.get("CERES_TESTING") != "1":
            raise ConfigError("argon2 parameters below 19 MiB / 2 passes are only allowed in tests")
