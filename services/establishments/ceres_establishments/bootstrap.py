"""Wires the establishments service once; used by the app, the worker and the tests."""
from pathlib import Path

from ceres_shared.config import Settings
from ceres_shared.runtime import Runtime

from . import handlers, models, policy
from .adapters import company_register as registers


def bootstrap(settings: Settings | None = None, *, company_register=None, **overrides) -> Runtime:
    runtime = Runtime.build(
        "establishments",
        settings=settings,
        metadata=models.metadata,
        tables=models.platform,
        migrations=Path(__file__).parent / "migrations",
        handlers=handlers.HANDLERS,
        policy=policy.POLICY,
        **overrides,
    )
    # E2: the company register (COMPANY_REGISTER=api|file), replaceable by tests (a fake API on loopback).
    runtime.company_register = company_register or registers.from_environment(runtime.settings.embedded)
    from .service_layer.history import history_access

    runtime.history_access = history_access
    return runtime


def company_register(runtime: Runtime):
    return runtime.company_register
