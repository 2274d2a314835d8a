"""Typed settings read once from the environment; a missing or malformed value fails at start-up."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("establishments", "sessions", "candidates", "printing", "identity")
# Embedded mode: each service on its own loopback port above CERES_PORT_BASE (8000); the gateway on PORT.
_PORT_OFFSETS = {"establishments": 1, "sessions": 2, "candidates": 3, "printing": 4, "identity": 5}


def embedded_port(name: str, base: int | None = None) -> int:
    if base is None:
        base = int(os.environ.get("CERES_PORT_BASE", "8000"))
    return base + _PORT_OFFSETS[name]


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot configure a service."""


def repo_root() -> Path:
    # shared/ceres_shared/config.py -> repo root; overridable when installed elsewhere (containers).
    env = os.environ.get("CERES_HOME")
    return Path(env) if env else Path(__file__).resolve().parents[2]


def var_dir() -> Path:
    path = Path(os.environ.get("CERES_VAR_DIR", repo_root() / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def assets_dir() -> Path:
    """Where setup puts installed data (fonts, communes referential, web assets): $CERES_ASSETS_DIR, else the
    checkout's var/. Unlike var_dir() (runtime state, per instance), one copy serves every instance and test."""
    env = os.environ.get("CERES_ASSETS_DIR")
    return Path(env) if env else repo_root() / "var"


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class BusSettings:
    url: str
    exchange: str = "ceres.events"
    queue_type: str = "classic"  # "quorum" in production clusters
    max_attempts: int = 5
    retry_base_ms: int = 200
    prefetch: int = 200

    @property
    def is_amqp(self) -> bool:
        return self.url.startswith(("amqp://", "amqps://", "pyamqp://"))


@dataclass(frozen=True)
class Settings:
    service: str
    database_url: str
    bus: BusSettings
    jwks_url: str | None
    jwt_audience: str = "ceres"
    secret_key: str = "dev-only-secret"
    max_body_bytes: int = 2 * 1024 * 1024
    log_level: str = "INFO"
    embedded: bool = False
    extra: dict = field(default_factory=dict)


def embedded_bus_url() -> str:
    return "filesystem://"


def embedded_bus_options() -> dict:
    folder = var_dir() / "bus"
    (folder / "messages").mkdir(parents=True, exist_ok=True)
    (folder / "control").mkdir(parents=True, exist_ok=True)
    (folder / "processed").mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder / "messages"),
        "data_folder_out": str(folder / "messages"),
        "control_folder": str(folder / "control"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "polling_interval": 0.05,
    }


# Known defaults and placeholders (README, compose, manifests, tutorials): whoever knows one forges the gateway's
# session cookie and identity's sign-up tickets, and opens the activation codes.
KNOWN_SECRETS = frozenset({"dev-only-secret", "dev-only-insecure-secret-key", "change_me", "changeme", "change-me",
                           "secret", "secret_key", "secretkey", "password", "default"})
MIN_SECRET_LENGTH = 32


def weak_secret_reason(secret: str) -> str | None:
    """Why `secret` may not sign anything in production, or None when it is strong enough."""
    folded = secret.strip().lower()
    if folded in KNOWN_SECRETS or "change_me" in folded or "changeme" in folded or "dev-only" in folded:
        return "is a known default or placeholder"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    if len(set(secret)) == 1:
        return "repeats a single character"
    return None


def embedded_secret() -> str:
    """Embedded mode's key when none is given: random, made once per var/ and shared by its six processes (a
    fixed default would let anyone who read this code forge a demo's cookies)."""
    path = var_dir() / "secret_key"
    if not path.exists():
        import secrets
        import tempfile

        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(temp, path)  # atomic: the first process wins, the others read its key
            except FileExistsError:
                pass
        finally:
            os.unlink(temp)
    return path.read_text().strip()


def secret_key(embedded: bool) -> str:
    """CERES_SECRET_KEY, checked (M6): production (every mode but embedded) refuses to start without a strong,
    non-placeholder key. Used by the five services and the gateway."""
    secret = os.environ.get("CERES_SECRET_KEY", "")
    if embedded:
        return secret or embedded_secret()
    if not secret:
        raise ConfigError("CERES_SECRET_KEY is required in production mode (at least 32 random characters)")
    reason = weak_secret_reason(secret)
    if reason:
        raise ConfigError(f"CERES_SECRET_KEY {reason}: set at least {MIN_SECRET_LENGTH} random characters "
                          "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    return secret


def check_embedded_bind(host: str) -> None:
    """M7: embedded mode mints demo tokens and runs without real secrets: it listens on loopback only, unless
    CERES_DEMO_PUBLIC=1 says that this is a public demonstration."""
    import ipaddress

    if os.environ.get("CERES_DEMO_PUBLIC") == "1" or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(f"embedded mode listens on loopback only, not {host!r}: set DATABASE_URL and AMQP_URL "
                          "(production mode), or CERES_DEMO_PUBLIC=1 for a public demonstration")


def load_settings(service: str) -> Settings:
    """Settings of one service. Without DATABASE_URL/AMQP_URL, the embedded default (SQLite + filesystem bus)."""
    if service not in SERVICES and service != "gateway":
        raise ConfigError(f"unknown service {service!r}")
    db_url = os.environ.get("DATABASE_URL") or os.environ.get(f"{service.upper()}_DATABASE_URL")
    amqp_url = os.environ.get("AMQP_URL")
    embedded = not (db_url and amqp_url)
    if embedded and os.environ.get("CERES_TESTING") != "1":  # M7: never chosen silently
        logging.getLogger(__name__).warning("%s: embedded mode (no DATABASE_URL/AMQP_URL): SQLite and a filesystem "
                                            "bus under %s, loopback only, not for production", service, var_dir())
    if embedded and (db_url or amqp_url) and os.environ.get("CERES_ALLOW_MIXED") != "1":
        raise ConfigError("set both DATABASE_URL and AMQP_URL (production mode) or neither (embedded mode)")
    if not db_url:
        db_url = f"sqlite:///{var_dir() / (service + '.db')}"
    if not amqp_url:
        amqp_url = embedded_bus_url()
    queue_type = os.environ.get("AMQP_QUEUE_TYPE", "classic")
    if queue_type not in ("classic", "quorum"):
        raise ConfigError("AMQP_QUEUE_TYPE must be 'classic' or 'quorum'")
    bus = BusSettings(
        url=amqp_url,
        exchange=os.environ.get("AMQP_EXCHANGE", "ceres.events"),
        queue_type=queue_type,
        max_attempts=_int("BUS_MAX_ATTEMPTS", 5),
        retry_base_ms=_int("BUS_RETRY_BASE_MS", 200),
        prefetch=_int("BUS_PREFETCH", 200),
    )
    jwks = os.environ.get("JWKS_URL")
    if not jwks and service != "identity":
        jwks = f"http://127.0.0.1:{embedded_port('identity')}/.well-known/jwks.json" if embedded else None
        if jwks is None:
            raise ConfigError("JWKS_URL is required in production mode")
    secret = secret_key(embedded)
    return Settings(
        service=service,
        database_url=db_url,
        bus=bus,
        jwks_url=jwks,
        secret_key=secret,
        max_body_bytes=_int("MAX_BODY_BYTES", 2 * 1024 * 1024),
        log_level=os.environ.get("LOG_LEVEL", "INFO"),
        embedded=embedded,
    )
