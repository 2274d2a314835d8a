"""pytest plugin (entry point "ceres"): session fixtures for the real PostgreSQL and RabbitMQ."""
from __future__ import annotations

import os
import secrets

import pytest

from .infra import Infra, InfraUnavailable, discover


def pytest_configure(config):
    os.environ.setdefault("CERES_TESTING", "1")
    # A strong key of this run's (M6 has no bypass: a variable set by mistake in production must not disable it).
    os.environ.setdefault("CERES_SECRET_KEY", secrets.token_urlsafe(48))


def pytest_collection_modifyitems(config, items):
    # The unit layer (tests/unit/, `make test-fast`) runs with no server: a test there asking for one is a mistake.
    wrong = [item.nodeid for item in items
             if "unit" in item.path.parent.parts and "infra" in getattr(item, "fixturenames", ())]
    if wrong:
        raise pytest.UsageError("unit tests must not use PostgreSQL or RabbitMQ (move them out of unit/): "
                                + ", ".join(wrong))


@pytest.fixture(scope="session")
def infra() -> Infra:
    os.environ.setdefault("CERES_TESTING", "1")
    try:
        found = discover()
    except InfraUnavailable as exc:
        pytest.fail(f"test infrastructure unavailable: {exc}", pytrace=False)
    yield found
    found.close()


@pytest.fixture(scope="session")
def amqp_url(infra) -> str:
    """A RabbitMQ virtual host of this test run."""
    return infra.new_vhost("run")


@pytest.fixture
def new_database(infra):
    """Factory: a fresh PostgreSQL database of this run, named after the label."""
    counter = iter(range(10_000))

    def make(label: str = "db") -> str:
        return infra.new_database(f"{label}{next(counter)}")

    return make


@pytest.fixture(scope="session")
def issuer(tmp_path_factory):
    """A token issuer (identity's key ring) whose public keys every service runtime of the tests trusts."""
    from ..keyring import KeyRing

    return KeyRing(tmp_path_factory.mktemp("keys"))


def build_runtime(infra, amqp_url: str, issuer, service: str, *, exchange: str | None = None, migrate: bool = True):
    """The named service wired to a fresh, migrated database of its own and this run's broker, with exchange
    and queue names of its own unless `exchange` is given (pass the same one to let services talk)."""
    import importlib
    import uuid

    from ..config import BusSettings, Settings

    bootstrap = importlib.import_module(f"ceres_{service}.bootstrap").bootstrap
    settings = Settings(
        service=service,
        database_url=infra.new_database(f"{service[:6]}{uuid.uuid4().hex[:4]}"),
        bus=BusSettings(url=amqp_url, exchange=exchange or f"s{uuid.uuid4().hex[:8]}.events",
                        retry_base_ms=50, max_attempts=3),
        jwks_url=None,
    )
    runtime = bootstrap(settings, jwks=issuer.jwks())
    if migrate:
        runtime.upgrade_database()
    return runtime


@pytest.fixture
def make_runtime(infra, amqp_url, issuer):
    """Factory fixture over build_runtime; background threads stopped and engines closed after the test."""
    made = []

    def make(service: str, *, exchange: str | None = None, migrate: bool = True):
        runtime = build_runtime(infra, amqp_url, issuer, service, exchange=exchange, migrate=migrate)
        made.append(runtime)
        return runtime

    yield make
    for runtime in made:
        runtime.stop_background()
        runtime.engine.dispose()
