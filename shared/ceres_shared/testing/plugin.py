"""pytest plugin (entry point "ceres"): session fixtures for the real PostgreSQL and RabbitMQ."""
from __future__ import annotations

import os

import pytest

from .infra import Infra, InfraUnavailable, discover


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
