"""Wires the sessions service once; used by the app, the worker and the tests."""
from pathlib import Path

from ceres_shared.config import Settings
from ceres_shared.runtime import Runtime

from . import handlers, models, policy
from .access import history_access
from .demo_worker import DemoSeeder  # embedded mode only: waits for the demo's projections
from .service_layer import counts
from .service_layer.dashboard import DeadlineScanner
from .service_layer.mass import MassOperationWorker


def bootstrap(settings: Settings | None = None, **overrides) -> Runtime:
    overrides.setdefault("extra_workers", [DeadlineScanner, MassOperationWorker, DemoSeeder])
    overrides.setdefault("history_access", history_access)
    counts.install()  # S10: the dashboard's counts follow every flushed change of a session
    return Runtime.build(
        "sessions",
        settings=settings,
        metadata=models.metadata,
        tables=models.platform,
        migrations=Path(__file__).parent / "migrations",
        handlers=handlers.HANDLERS,
        policy=policy.POLICY,
        **overrides,
    )
