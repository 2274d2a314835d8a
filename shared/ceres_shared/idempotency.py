"""Idempotent retries of state-changing calls: a client sends `Idempotency-Key: <key>` with a POST, PUT, PATCH or
DELETE; the service keeps (key, caller, method, path and query) with the request's hash and, once answered, the status
and body for 24 hours. The same request again with the same key gets the same answer without being applied twice
(the gateway cut during a validation: the retry no longer answers 409); the same key with another request is a
422. A retry while the first is still running gets 409. Answers of 500 and more are not kept: a retry runs again.
The gateway's forms carry a key made when the form is shown. Identity takes no part (CERES_IDEMPOTENCY=False):
its answers carry tokens, client secrets and activation codes, which no table may keep in clear."""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta, timezone

from flask import Flask, Response, g, request
from sqlalchemy import (Column, DateTime, Integer, MetaData, String, Table, Text, and_, delete, insert, or_, select,
                        update)
from sqlalchemy.exc import IntegrityError

from . import errors
from .auth import current_principal

log = logging.getLogger(__name__)
HEADER = "Idempotency-Key"
KEPT = timedelta(hours=24)
STALE = timedelta(minutes=2)  # longer than any request may run (gunicorn's timeout: 30 s)
MAX_KEY = 100
MAX_BODY = 1024 * 1024  # larger answers (documents) are not kept: the retry runs again
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TABLE = "idempotency_keys"


def table(metadata: MetaData) -> Table:
    return Table(
        TABLE,
        metadata,
        # sha256 of (caller, method and path, key): one row per key of a caller on an endpoint.
        Column("id", String(64), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
        Column("status", Integer, nullable=True),  # NULL while the first request runs
        Column("content_type", String(120), nullable=True),
        Column("location", String(500), nullable=True),
        Column("body", Text, nullable=True),
    )


def create_table(op) -> None:
    """For each service's migration (the table joined PlatformTables after their first migration)."""
    from .db import new_metadata

    table(new_metadata()).create(op.get_bind())


def drop_table(op) -> None:
    op.drop_table(TABLE)


def _digest(*parts: bytes | str) -> str:
    sha = hashlib.sha256()
    for part in parts:
        sha.update(part.encode() if isinstance(part, str) else part)
        sha.update(b"\0")
    return sha.hexdigest()


def install(app: Flask, runtime) -> None:
    """After the request context's hooks (the caller is authenticated, its permission checked)."""
    keys = runtime.tables.idempotency

    @app.before_request
    def _claim():
        key = request.headers.get(HEADER)
        if key is None or request.method not in METHODS or not app.config.get("CERES_IDEMPOTENCY", True):
            return None
        if not 1 <= len(key) <= MAX_KEY or not key.isprintable() or not key.isascii():
            return errors.problem(400, f"L'en-tête {HEADER} doit compter de 1 à {MAX_KEY} caractères ASCII "
                                       "imprimables.", code="bad_idempotency_key")
        principal = current_principal()
        caller = principal.label if principal else "anonyme"
        row_id = _digest(caller, f"{request.method} {request.full_path}", key)  # another query: another call
        request_hash = _digest(request.method, request.path, request.query_string, request.get_data(cache=True))
        now = datetime.now(timezone.utc)
        with runtime.engine.connect() as conn:
            # An expired key, or the claim of a request that died unanswered (no request runs that long).
            conn.execute(delete(keys).where(keys.c.id == row_id, or_(
                keys.c.created_at < now - KEPT, and_(keys.c.status.is_(None), keys.c.created_at < now - STALE))))
            try:
                conn.execute(insert(keys).values(id=row_id, request_hash=request_hash, created_at=now))
                conn.commit()
            except IntegrityError:
                conn.rollback()
            else:
                g.idempotency_id = row_id
                return None
            kept = conn.execute(select(keys).where(keys.c.id == row_id)).one_or_none()
        if kept is None:  # expired and deleted by a concurrent retry in between: say so, the client retries
            return errors.problem(409, "Une demande identique est en cours de traitement : réessayez dans un instant.",
                                  code="idempotency_in_progress")
        if kept.request_hash != request_hash:
            return errors.problem(422, "Cette clé d'idempotence a déjà servi pour une autre demande : envoyez une "
                                       "nouvelle clé.", code="idempotency_key_reused")
        if kept.status is None:
            return errors.problem(409, "Une demande identique est en cours de traitement : réessayez dans un instant.",
                                  code="idempotency_in_progress")
        replay = Response(kept.body or "", status=kept.status, content_type=kept.content_type)
        if kept.location:
            replay.headers["Location"] = kept.location
        replay.headers["Idempotent-Replayed"] = "true"
        return replay

    def _release(row_id: str) -> None:
        with runtime.engine.begin() as conn:
            conn.execute(delete(keys).where(keys.c.id == row_id))

    @app.after_request
    def _keep(response: Response):
        row_id = g.pop("idempotency_id", None)
        if row_id is None:
            return response
        if not response.is_streamed and "db" in g:
            # The handler committed what it did; what it left uncommitted is lost anyway. Ended now, its locks
            # (SQLite's write lock: BEGIN IMMEDIATE) no longer hold up the write below.
            g.db.rollback()
        body = None if response.is_streamed else response.get_data()
        try:
            text = body.decode("utf-8") if body is not None and len(body) <= MAX_BODY else None
        except UnicodeDecodeError:
            text = None
        try:
            if response.status_code >= 500 or text is None:
                _release(row_id)
            else:
                with runtime.engine.begin() as conn:
                    conn.execute(update(keys).where(keys.c.id == row_id).values(
                        status=response.status_code, content_type=response.content_type,
                        location=response.headers.get("Location"), body=text))
        except Exception:  # noqa: BLE001 - the answer stands; a retry gets 409 until the claim is stale
            log.exception("idempotency key not recorded")
        return response

    @app.teardown_request
    def _unfinished(_exc):
        row_id = g.pop("idempotency_id", None)
        if row_id is not None:  # no answer was made (the request failed before): a retry runs again
            _release(row_id)
