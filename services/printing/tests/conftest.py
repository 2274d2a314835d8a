"""Fixtures of the printing service's tests: one migrated runtime per test module (rendering is slow, so a
module shares its database and its rendered documents), events delivered to the real handlers."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from ceres_shared.config import BusSettings, Settings
from ceres_shared.events import make_envelope, parse_envelope
from ceres_printing.bootstrap import bootstrap
from ceres_printing.config import PrintingConfig


class FixedClock:
    """The service's clock in tests (P5's 7 days without waiting)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.fixture(scope="module")
def clock():
    return FixedClock(datetime(2022, 11, 29, 9, 0, tzinfo=timezone.utc))


@pytest.fixture(scope="module")
def rt(infra, amqp_url, issuer, clock):
    settings = Settings(service="printing", database_url=infra.new_database(f"print{uuid.uuid4().hex[:6]}"),
                        bus=BusSettings(url=amqp_url, exchange=f"p{uuid.uuid4().hex[:8]}.events",
                                        retry_base_ms=50, max_attempts=3), jwks_url=None)
    runtime = bootstrap(settings, jwks=issuer.jwks(), printing=PrintingConfig(
        public_base_url="https://ceres.test/api/printing", batch_size=50, batch_max_wait_s=3600, clock=clock,
        render_workers=0))  # rendered in the test's thread; the worker processes are in the flow test
    runtime.upgrade_database()
    yield runtime
    runtime.stop_background()
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def client(rt):
    from ceres_printing.app import create_app

    return create_app(rt).test_client()


def deliver(rt, event_type: str, payload: dict, producer: str = "tests") -> None:
    """An event through its contract and JSON, to the service's handlers, in one transaction (as the consumer)."""
    env = parse_envelope(make_envelope(event_type, payload, producer=producer).to_json())
    with rt.session_factory.begin() as session:
        for handler in rt.handlers[event_type]:
            handler(session, env)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def ud75(issuer):
    return bearer(issuer.issue("agent-75", "ud", scope={"departements": ["75"]}, ttl=3600))


@pytest.fixture(scope="module")
def afpa_headers(issuer):
    return bearer(issuer.issue("afpa-client", "afpa", ttl=3600))
