"""Traceability: every write records who, when, what changed (before/after), queryable per record."""
from __future__ import annotations

import logging
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy import text as sa_text
from sqlalchemy.orm import Session

from . import correlation
from .platform_tables import PlatformTables

log = logging.getLogger(__name__)

# The action of a trail row that records a refusal: a record outside the caller's scope was asked for (I4).
SCOPE_REFUSED = "refus_perimetre"


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
            select(t).where(t.c.entity_type == entity_type, t.c.entity_id == str(entity_id),
                            t.c.action != SCOPE_REFUSED).order_by(t.c.id)
        ).mappings()
        return [dict(r) for r in rows]

    def scope_refusals(self, session: Session, *, since: datetime | None = None, until: datetime | None = None,
                       actor: str | None = None, page: int = 1, per_page: int = 50) -> tuple[int, list[dict]]:
        """The refused attempts on records outside their author's scope, newest first: (total, one page)."""
        t = self.table
        where = [t.c.action == SCOPE_REFUSED]
        if since is not None:
            where.append(t.c.at >= since)
        if until is not None:
            where.append(t.c.at < until)
        if actor:
            where.append(t.c.actor == actor)
        total = session.scalar(select(func.count()).select_from(t).where(*where))
        rows = session.execute(select(t).where(*where).order_by(t.c.at.desc(), t.c.id.desc())
                               .offset((page - 1) * per_page).limit(per_page)).mappings()
        return total, [refusal_view(r) for r in rows]


REFUSALS_INDEX = "ix_audit_log_scope_refusals"


def create_refusals_index(op) -> None:
    """For each service's migration: the partial index the refusals' list reads (PlatformTables declares it)."""
    where = sa_text(f"action = '{SCOPE_REFUSED}'")
    op.create_index(REFUSALS_INDEX, "audit_log", ["at", "id"], postgresql_where=where, sqlite_where=where)


def drop_refusals_index(op) -> None:
    op.drop_index(REFUSALS_INDEX, table_name="audit_log")


def refusal_view(row) -> dict:
    what = row["changes"] or {}
    return {"at": row["at"], "actor": row["actor"], "actor_name": what.get("actor_name"),
            "actor_role": row["actor_role"], "entity_type": row["entity_type"], "entity_id": row["entity_id"],
            "method": what.get("method"), "endpoint": what.get("endpoint"), "path": what.get("path"),
            "status": what.get("status"), "correlation_id": row["correlation_id"]}


def refusal(session: Session, model, key, entity_type: str, exc):
    """`exc` (a 403 or 404 about the record `key` of `model`), marked as a scope refusal — and so traced — when
    that record exists: the caller asked for a real record outside their scope (I4), not for an unknown id."""
    return exc.outside_scope(entity_type, key) if session.get(model, key) is not None else exc


def record_scope_refusal(exc) -> None:
    """Traces a refusal marked by ApiError.outside_scope: who (name, role), when, which record, which endpoint and
    method, the answer (403/404). In a transaction of its own, after the request's is rolled back (nothing of the
    refused request is kept; on SQLite its write lock is released first), so the refusal stays whatever the
    request does next. Never turns the refusal into another error."""
    from flask import current_app, g, request

    try:
        session = g.get("db")
        if session is not None:
            session.rollback()
        rt = current_app.extensions["ceres_runtime"]
        principal = g.get("principal")
        entity_type, entity_id = exc.refused
        row = {
            "entity_type": entity_type[:60], "entity_id": entity_id[:64], "action": SCOPE_REFUSED,
            "actor": principal.label[:120] if principal else "anonyme",
            "actor_role": principal.role if principal else None, "at": datetime.now(timezone.utc),
            "changes": {"status": exc.status, "method": request.method, "path": request.path[:300],
                        "endpoint": request.url_rule.rule if request.url_rule else None,
                        "actor_name": principal.name if principal else None},
            "reason": exc.detail, "correlation_id": correlation.get(),
        }
        with rt.engine.begin() as conn:
            conn.execute(rt.audit.table.insert().values(**row))
    except Exception:  # noqa: BLE001 - the caller still gets the refusal
        log.exception("scope refusal not recorded")
