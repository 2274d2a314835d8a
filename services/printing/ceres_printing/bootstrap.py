"""Wires the printing service once; used by the app, the worker and the tests."""
from pathlib import Path

from ceres_shared.config import Settings
from ceres_shared.runtime import Runtime

from . import handlers, models, policy
from .batches import BatchBuilder
from .config import PrintingConfig
from .rendering import RenderPool


def bootstrap(settings: Settings | None = None, *, printing: PrintingConfig | None = None, **overrides) -> Runtime:
    overrides.setdefault("extra_workers", [BatchBuilder])
    runtime = Runtime.build(
        "printing",
        settings=settings,
        metadata=models.metadata,
        tables=models.platform,
        migrations=Path(__file__).parent / "migrations",
        handlers={},
        policy=policy.POLICY,
        **overrides,
    )
    runtime.printing = printing or PrintingConfig()
    runtime.render_pool = RenderPool(runtime.printing.render_workers, runtime.printing.recycle_after)
    from .history_access import history_access

    runtime.history_access = history_access
    # The handlers need the runtime (audit, outbox, clock): built once it exists.
    runtime.handlers.update(handlers.build(runtime))
    return runtime
