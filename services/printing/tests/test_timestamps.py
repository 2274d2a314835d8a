"""L9: the printing API's timestamps carry their offset, also where SQLite (embedded mode) hands back naive ones."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ceres_printing.services import iso


def test_L9_naive_timestamps_are_written_as_utc():
    assert iso(datetime(2026, 3, 1, 9, 30)) == "2026-03-01T09:30:00+00:00"
    paris = timezone(timedelta(hours=1))
    assert iso(datetime(2026, 3, 1, 9, 30, tzinfo=paris)) == "2026-03-01T09:30:00+01:00"
    assert iso(None) is None
