"""Identity tests: one migrated identity runtime per module (real PostgreSQL), a real SMTP server on loopback,
and a `Portal` driving the API (ceres_identity.testing)."""
from __future__ import annotations

import pytest

from ceres_identity.testing import Portal, build_identity, start_smtp


@pytest.fixture(scope="module")
def smtp():
    inbox, controller = start_smtp()
    yield inbox
    controller.stop()


@pytest.fixture(scope="module")
def identity(infra, amqp_url, issuer, smtp):
    runtime = build_identity(infra, amqp_url, issuer, smtp.url)
    yield runtime
    runtime.stop_background()
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def portal(identity, smtp):
    from ceres_identity.app import create_app

    return Portal(identity, create_app(identity).test_client(), smtp)
