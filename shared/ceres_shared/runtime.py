"""What a service is made of, wired once: settings, database, platform tables, outbox, audit, event handlers,
permissions. The Flask app, the worker and the tests all start from the same Runtime (style: one bootstrap)."""
from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import MetaData, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import logs
from .audit import AuditTrail
from .bus.consumer import EventConsumer, Handler
from .bus.relay import OutboxRelay
from .bus.topology import connect
from .config import Settings, load_settings, var_dir
from .db import make_engine, make_session_factory
from .events.subscriptions import subscriptions as default_subscriptions
from .outbox import Outbox
from .platform_tables import PlatformTables

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    metadata: MetaData
    tables: PlatformTables
    migrations: Path
    handlers: dict[str, list[Handler]] = field(default_factory=dict)
    policy: dict[str, frozenset[str]] = field(default_factory=dict)
    subscriptions: dict[str, tuple[str, ...]] = field(default_factory=default_subscriptions)
    jwks: dict | None = None
    # Other background loops of the service (mail sender, batch builder...): factory(runtime) -> object with
    # run() and stop(), started beside the relay and the consumer.
    extra_workers: list = field(default_factory=list)
    # Who may read a record's audit trail through /history: fn(session, principal, entity_type, entity_id) -> bool.
    # Without it, only national agents may (the service knows where its records are, the platform does not).
    history_access: object = None

    def __post_init__(self):
        self.engine: Engine = make_engine(self.settings.database_url)
        self.session_factory: sessionmaker[Session] = make_session_factory(self.engine)
        self.outbox = Outbox(self.settings.service, self.tables)
        self.audit = AuditTrail(self.tables)
        self._threads: list[threading.Thread] = []
        self._stoppables: list = []

    @classmethod
    def build(cls, service: str, *, settings: Settings | None = None, **kwargs) -> "Runtime":
        settings = settings or load_settings(service)
        logs.configure(service, settings.log_level)
        return cls(settings=settings, **kwargs)

    @property
    def service(self) -> str:
        return self.settings.service

    # -- readiness --------------------------------------------------------------------------------------------
    def check_database(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def check_broker(self) -> None:
        with connect(self.settings.bus, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)

    # -- migrations -------------------------------------------------------------------------------------------
    def upgrade_database(self, revision: str = "head") -> None:
        from .migrations import upgrade

        upgrade(self, revision)

    # -- background work --------------------------------------------------------------------------------------
    def heartbeat_file(self) -> Path:
        return var_dir() / f"{self.service}.worker.heartbeat"

    def make_relay(self) -> OutboxRelay:
        return OutboxRelay(self.engine, self.outbox, self.settings.bus, self.subscriptions)

    def make_consumer(self) -> EventConsumer:
        unhandled = set(self.subscriptions.get(self.service, ())) - set(self.handlers)
        if unhandled:
            # Bound but unhandled, every such event would end in the dead-letter queue.
            raise ValueError(f"{self.service} subscribes to {sorted(unhandled)} but has no handler for them")
        return EventConsumer(
            self.service,
            self.engine,
            self.tables,
            self.settings.bus,
            self.handlers,
            self.subscriptions,
            heartbeat_file=self.heartbeat_file(),
        )

    def start_background(self) -> None:
        """Relay and (when the service handles events) consumer, as daemon threads."""
        workers = [self.make_relay()]
        if self.handlers:
            workers.append(self.make_consumer())
        workers.extend(factory(self) for factory in self.extra_workers)
        for worker in workers:
            thread = threading.Thread(target=worker.run, name=f"{self.service}-{type(worker).__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
            self._stoppables.append(worker)

    def stop_background(self, timeout: float = 10.0) -> None:
        for worker in self._stoppables:
            worker.stop()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
        self._stoppables.clear()

    def run_worker_forever(self) -> None:
        """The production worker process: relay + consumer until SIGTERM/SIGINT."""
        done = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: done.set())
        self.start_background()
        log.info("worker of %s started", self.service)
        while not done.wait(5):
            self.heartbeat_file().touch()
        self.stop_background()
