"""S10: the dashboard's counts table, kept in the same transaction as every change of a session
(service_layer/counts.py), back-filled here from the sessions already recorded; indexes for B2 (results overdue)
and the S10 agréments to follow.

Revision ID: 0004
Revises: 0003
"""
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PARIS = ZoneInfo("Europe/Paris")
KEY = ("month", "departement", "region", "status")


def upgrade() -> None:
    counts = op.create_table(
        "session_counts",
        sa.Column("month", sa.Date, nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("sessions", sa.Integer, nullable=False),
        sa.Column("dte_requests", sa.Integer, nullable=False),
        sa.Column("relaxed", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(*KEY, name="pk_session_counts"),
    )
    op.create_index("ix_session_counts_departement_month", "session_counts", ["departement", "month"])
    op.create_index("ix_session_counts_region_month", "session_counts", ["region", "month"])
    # Covering on PostgreSQL (SQLite ignores INCLUDE): withdrawn agréments meet their open sessions index-only.
    op.create_index("ix_sessions_status_ends", "sessions", ["status", "ends_at"],
                    postgresql_include=["site_id", "titre_code", "departement", "region"])
    op.create_index("ix_agrements_status_until", "agrements", ["status", "valid_until"],
                    postgresql_include=["site_id", "titre_code"])
    op.create_index("ix_deadline_warnings_due", "deadline_warnings", ["due_date"])
    op.create_index("ix_deadline_warnings_kind_due", "deadline_warnings", ["kind", "due_date"])
    op.drop_index("ix_sessions_site", table_name="sessions")  # the new index serves lookups by site alone too
    op.create_index("ix_sessions_site_titre", "sessions", ["site_id", "titre_code"])
    op.create_index("ix_sites_departement", "sites", ["departement"])
    op.create_index("ix_sites_region", "sites", ["region"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "INSERT INTO session_counts (month, departement, region, status, sessions, dte_requests, relaxed) "
            "SELECT CAST(date_trunc('month', starts_at AT TIME ZONE 'Europe/Paris') AS date), departement, region, "
            "status, count(*), count(dte_requested_at), sum(CASE WHEN under_relaxation THEN 1 ELSE 0 END) "
            "FROM sessions GROUP BY 1, 2, 3, 4")
        return
    # SQLite (embedded mode, small): the Paris month computed here, as the service computes it.
    totals: Counter = Counter()
    for starts_at, dep, region, status, dte, relaxed in bind.execute(sa.text(
            "SELECT starts_at, departement, region, status, dte_requested_at, under_relaxation FROM sessions")):
        moment = datetime.fromisoformat(str(starts_at))
        local = moment if moment.tzinfo is None else moment.astimezone(PARIS)
        key = (local.date().replace(day=1), dep, region, status)
        totals[key + ("sessions",)] += 1
        totals[key + ("dte_requests",)] += int(dte is not None)
        totals[key + ("relaxed",)] += int(bool(relaxed))
    keys = {k[:4] for k in totals}
    if keys:
        op.bulk_insert(counts, [dict(zip(KEY, key), sessions=totals[key + ("sessions",)],
                                     dte_requests=totals[key + ("dte_requests",)],
                                     relaxed=totals[key + ("relaxed",)]) for key in sorted(keys)])


def downgrade() -> None:
    op.drop_index("ix_deadline_warnings_kind_due", table_name="deadline_warnings")
    op.drop_index("ix_deadline_warnings_due", table_name="deadline_warnings")
    op.drop_index("ix_sites_region", table_name="sites")
    op.drop_index("ix_sites_departement", table_name="sites")
    op.drop_index("ix_sessions_site_titre", table_name="sessions")
    op.create_index("ix_sessions_site", "sessions", ["site_id"])
    op.drop_index("ix_agrements_status_until", table_name="agrements")
    op.drop_index("ix_sessions_status_ends", table_name="sessions")
    op.drop_table("session_counts")
