"""Helpers shared by the endpoints."""
from __future__ import annotations

from datetime import date, datetime


def plain(value):
    """JSON-ready: ISO dates (Flask's default would write RFC 822 dates)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
