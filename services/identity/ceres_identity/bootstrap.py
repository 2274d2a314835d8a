"""Wires the identity service once; used by the app, the worker and the tests."""
from pathlib import Path

from ceres_shared.config import Settings
from ceres_shared.runtime import Runtime

from . import handlers, models, policy
from .context import configure
from .workers import MailSender, Purger


def bootstrap(settings: Settings | None = None, **overrides) -> Runtime:
    runtime = Runtime.build(
        "identity",
        settings=settings,
        metadata=models.metadata,
        tables=models.platform,
        migrations=Path(__file__).parent / "migrations",
        handlers={},
        policy=policy.POLICY,
        extra_workers=[MailSender, Purger],
        **overrides,
    )
    runtime.handlers.update(handlers.bind(runtime))
    configure(runtime)
    return runtime
