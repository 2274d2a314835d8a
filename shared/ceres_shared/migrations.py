"""Alembic, run programmatically: each service keeps its migrations in `<package>/migrations/`."""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

MIGRATION_LOCK = 724242  # arbitrary, constant: the advisory lock key of migrations


def alembic_config(runtime) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(runtime.migrations))
    cfg.set_main_option("sqlalchemy.url", runtime.settings.database_url.replace("%", "%%"))
    cfg.attributes["ceres_runtime"] = runtime
    return cfg


def upgrade(runtime, revision: str = "head") -> None:
    command.upgrade(alembic_config(runtime), revision)


def run_env(context, target_metadata) -> None:
    """Body of every service's migrations/env.py."""
    runtime = context.config.attributes.get("ceres_runtime")
    if context.is_offline_mode():
        context.configure(url=context.config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                          literal_binds=True, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = runtime.engine if runtime is not None else None
    if engine is None:
        from sqlalchemy import create_engine

        engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        locked = connection.dialect.name == "postgresql"
        if locked:
            # Two replicas starting together must not migrate at the same time.
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            connection.commit()
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite's DDL is transactional, but the driver opens a transaction only before DML, and alembic
            # assumes none: a service killed mid-migration (embedded mode) left tables without their version, and
            # every restart failed on « table … already exists ». One transaction, taken with the write lock.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            # render_as_batch lets ALTERs work on SQLite (embedded mode) too.
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                              transactional_ddl=True if sqlite else None)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            if locked:  # pooled connections outlive us: release explicitly
                connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                connection.commit()


def create_platform_tables(op) -> None:
    """Used by each service's first migration: outbox, inbox and audit tables (see platform_tables.py)."""
    from .db import new_metadata
    from .platform_tables import PlatformTables

    metadata = new_metadata()
    tables = PlatformTables(metadata)
    bind = op.get_bind()
    # The three of the first migration only: tables added since come with their own migration.
    metadata.create_all(bind, tables=[tables.outbox, tables.inbox, tables.audit])


def drop_platform_tables(op) -> None:
    for name in ("audit_log", "inbox", "outbox"):
        op.drop_table(name)
