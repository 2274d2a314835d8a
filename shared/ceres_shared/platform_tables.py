"""Tables every service has beside its own: the outbox, the inbox, the audit trail and the idempotency keys."""
from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
)

from . import idempotency
from .db import BIGID, AwareDateTime


class PlatformTables:
    """Declares the shared tables on a service's MetaData, so its Alembic history creates them."""

    def __init__(self, metadata: MetaData):
        self.outbox = Table(
            "outbox",
            metadata,
            Column("id", BIGID, primary_key=True, autoincrement=True),
            Column("event_id", String(36), nullable=False, unique=True),
            Column("event_type", String(80), nullable=False),
            Column("body", Text, nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
            Column("published_at", DateTime(timezone=True), nullable=True),
            Column("attempts", Integer, nullable=False, server_default="0"),
            Column("last_error", Text, nullable=True),
        )
        # The relay only ever scans what is unsent: a partial index keeps that scan small forever.
        Index(
            "ix_outbox_unpublished",
            self.outbox.c.id,
            postgresql_where=self.outbox.c.published_at.is_(None),
            sqlite_where=self.outbox.c.published_at.is_(None),
        )
        self.inbox = Table(
            "inbox",
            metadata,
            Column("event_id", String(36), primary_key=True),
            Column("event_type", String(80), nullable=False),
            Column("producer", String(64), nullable=False),
            Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        )
        self.audit = Table(
            "audit_log",
            metadata,
            Column("id", BIGID, primary_key=True, autoincrement=True),
            Column("entity_type", String(60), nullable=False),
            Column("entity_id", String(64), nullable=False),
            Column("action", String(60), nullable=False),
            Column("actor", String(120), nullable=False),
            Column("actor_role", String(40), nullable=True),
            Column("at", AwareDateTime(), nullable=False),  # aware on SQLite too: the history APIs write its offset
            Column("changes", JSON, nullable=False),
            Column("reason", Text, nullable=True),
            Column("correlation_id", String(128), nullable=True),
        )
        Index("ix_audit_log_entity", self.audit.c.entity_type, self.audit.c.entity_id, self.audit.c.id)
        # Also ix_audit_log_scope_refusals (the refusals' list): a later migration of each service
        # (audit.create_refusals_index), not declared here: the first migration creates the audit table from this.
        # Answers kept for retries with an Idempotency-Key (idempotency.py); each service's later migration.
        self.idempotency = idempotency.table(metadata)
