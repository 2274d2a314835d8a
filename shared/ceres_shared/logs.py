"""Structured JSON logs with the service name and the correlation id on every line."""
from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from . import correlation


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
        JsonFormatter(
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
