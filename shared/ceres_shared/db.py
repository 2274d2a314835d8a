"""Engines and sessions for a service's own database (PostgreSQL in production, SQLite embedded)."""
from __future__ import annotations

from datetime import timezone

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator, create_engine, event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

# What a request told its record changed under it reads (409): the same words in every service.
CONCURRENT_CHANGE = "Cet enregistrement vient d'être modifié par quelqu'un d'autre : rechargez la page."

# Stable constraint names so that Alembic migrations can refer to them on both back ends.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# A 64-bit auto-increment key; SQLite only auto-increments INTEGER PRIMARY KEY columns.
BIGID = BigInteger().with_variant(Integer(), "sqlite")


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL lets the web threads read while the worker writes
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        event.listen(engine, "before_execute", _write_lock_for_select_for_update)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _write_lock_for_select_for_update(conn, clauseelement, _multiparams, _params, _options) -> None:
    """SQLite has no SELECT … FOR UPDATE: its compiler drops the clause, so two requests would both read a status
    and both change it (writes serialize, the read-check-write does not). Before such a read, take the database's
    write lock (BEGIN IMMEDIATE) unless the transaction holds it already: a second request waits there until the
    first commits, then reads what it wrote, as PostgreSQL's row lock makes it. NOWAIT/SKIP LOCKED reads (background
    workers picking work) keep SQLite's deferred behaviour: they must not queue behind a request."""
    for_update = getattr(clauseelement, "_for_update_arg", None)
    if for_update is None or for_update.nowait or for_update.skip_locked:
        return
    raw = conn.connection.dbapi_connection
    if not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


def lock_for_update(session: Session, model, ident, *criteria):
    """The row of `model` with primary key `ident` (a tuple for a composite key) and the extra `criteria` (a
    scope...), read afresh from the database and locked until the transaction ends — a row lock on PostgreSQL, the
    write lock on SQLite — or None. Check a state-changing step's preconditions on what this returns: of two
    concurrent requests for the same step, the second then sees the first's result and is refused."""
    keys = inspect(model).primary_key
    idents = ident if isinstance(ident, tuple) else (ident,)
    stmt = (select(model).where(*(column == value for column, value in zip(keys, idents)), *criteria)
            .with_for_update().execution_options(populate_existing=True))
    return session.scalars(stmt).first()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class AwareDateTime(TypeDecorator):
    """A timestamp that always comes back timezone-aware (UTC). PostgreSQL keeps the zone; SQLite (embedded mode)
    stores none and would hand back naive datetimes that neither compare with aware ones nor pass the contracts."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None and dialect.name == "sqlite":
            return value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value
