"""Traceability: every write records who, when, what changed (before/after), queryable per record."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import correlation
from .platform_tables import PlatformTables


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def diff(before: dict | None, after: dict | None) -> dict:
    """{field: [before, after]} for the fields that differ (all of them on creation or deletion)."""
    before, after = before or {}, after or {}
    return {
        key: [_plain(before.get(key)), _plain(after.get(key))]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


class AuditTrail:
    def __init__(self, tables: PlatformTables):
        self.table = tables.audit

    def record(
        self,
        session: Session,
        *,
        entity_type: str,
        entity_id: str,
        action: str,
        actor: str,
        actor_role: str | None = None,
        before: dict | None = None,
        after: dict | None = None,
        reason: str | None = None,
    ) -> dict:
        changes = diff(before, after)
        row = {
            "entity_type": entity_type,
            "entity_id": str(entity_id),
            "action": action,
            "actor": actor,
            "actor_role": actor_role,
            "at": datetime.now(timezone.utc),
            "changes": changes,
            "reason": reason,
            "correlation_id": correlation.get(),
        }
        session.execute(self.table.insert().values(**row))
        return row

    def history(self, session: Session, entity_type: str, entity_id: str) -> list[dict]:
        t = self.table
        rows = session.execute(
            select(t).where(t.c.entity_type == entity_type, t.c.entity_id == str(entity_id)).order_by(t.c.id)
        ).mappings()
        return [dict(r) for r in rows]
