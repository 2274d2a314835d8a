"""Structured JSON logs with the service name and the correlation id on every line."""
from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from . import correlation


MAX_MESSAGE = 2_000  # characters of a log message kept
MAX_TRACE = 8_000  # characters of a traceback kept: its start and its end, where the error is


def clip(text: str, limit: int) -> str:
    """`text` at most about `limit` characters: its first quarter and its end, with what was cut counted."""
    if len(text) <= limit:
        return text
    head, tail = limit // 4, limit - limit // 4
    return f"{text[:head]}\n[... {len(text) - head - tail} caractères coupés ...]\n{text[-tail:]}"


class _BoundedJsonFormatter(JsonFormatter):
    """A log line stays readable and small whatever the error (a 1 KB body once made a 95 KB line, M3)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if len(message) > MAX_MESSAGE:
            record.msg, record.args = clip(message, MAX_MESSAGE), None
        return super().format(record)

    def formatException(self, ei):
        return clip(super().formatException(ei), MAX_TRACE)

    def formatStack(self, stack_info):
        return clip(super().formatStack(stack_info), MAX_TRACE)


class _ContextFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.correlation_id = correlation.get()
        return True


def configure(service: str, level: str = "INFO") -> None:
    root = logging.getLogger()
    if getattr(root, "_ceres_configured", None) == service:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        _BoundedJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(correlation_id)s",
            rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_ContextFilter(service))
    root.handlers[:] = [handler]
    root.setLevel(level)
    # kombu/amqp are chatty at INFO on reconnects; warnings are enough.
    logging.getLogger("amqp").setLevel(logging.WARNING)
    root._ceres_configured = service  # type: ignore[attr-defined]
