"""Cross-service test fixtures: a token issuer, and a service Runtime on the real PostgreSQL + RabbitMQ."""
from __future__ import annotations

import importlib
import uuid

import pytest

from ceres_shared.config import BusSettings, Settings
from ceres_shared.keyring import KeyRing

SERVICES = ("establishments", "sessions", "candidates", "printing", "identity")


@pytest.fixture(scope="session")
def issuer(tmp_path_factory) -> KeyRing:
    return KeyRing(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def make_runtime(new_database, amqp_url, issuer):
    """Factory: the named service wired to a fresh database of its own and this run's broker."""
    made = []

    def make(service: str, *, exchange: str | None = None):
        bootstrap = importlib.import_module(f"ceres_{service}.bootstrap").bootstrap
        settings = Settings(
            service=service,
            database_url=new_database(service[:6]),
            bus=BusSettings(url=amqp_url, exchange=exchange or f"s{uuid.uuid4().hex[:8]}.events"),
            jwks_url=None,
        )
        runtime = bootstrap(settings, jwks=issuer.jwks())
        runtime.upgrade_database()
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.stop_background()
        runtime.engine.dispose()
