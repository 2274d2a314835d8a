"""Typed settings read once from the environment; a missing or malformed value fails at start-up."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("establishments", "sessions", "candidates", "printing", "identity")
# Embedded mode: each service on its own loopback port above CERES_PORT_BASE (8000); the gateway on PORT.
_PORT_OFFSETS = {"establishments": 1, "sessions": 2, "candidates": 3, "printing": 4, "identity": 5}


def embedded_port(name: str) -> int:
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


def load_settings(service: str) -> Settings:
    """Settings of one service. Without DATABASE_URL/AMQP_URL, the embedded default (SQLite + filesystem bus)."""
    if service not in SERVICES and service != "gateway":
        raise ConfigError(f"unknown service {service!r}")
    db_url = os.environ.get("DATABASE_URL") or os.environ.get(f"{service.upper()}_DATABASE_URL")
    amqp_url = os.environ.get("AMQP_URL")
    embedded = not (db_url and amqp_url)
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
    secret = os.environ.get("CERES_SECRET_KEY", "dev-only-secret")
    if not embedded and secret == "dev-only-secret" and os.environ.get("CERES_TESTING") != "1":
        raise ConfigError("CERES_SECRET_KEY is required in production mode")
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
