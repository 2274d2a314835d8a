"""Dashboard (S10) indexes covering its counts: scope + start date, with the counted columns included so that
PostgreSQL answers from the index alone (SQLite ignores INCLUDE and keeps plain indexes).

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COUNTED = ["status", "dte_requested_at", "under_relaxation"]
INDEXES = {
    "ix_sessions_departement_starts": ["departement", "starts_at"],
    "ix_sessions_region_starts": ["region", "starts_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="sessions")
        op.create_index(name, "sessions", columns, postgresql_include=COUNTED)
    op.drop_index("ix_sessions_starts_status", table_name="sessions")
    op.create_index("ix_sessions_starts", "sessions", ["starts_at"], postgresql_include=COUNTED)


def downgrade() -> None:
    op.drop_index("ix_sessions_starts", table_name="sessions")
    op.create_index("ix_sessions_starts_status", "sessions", ["starts_at", "status"])
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="sessions")
        op.create_index(name, "sessions", columns)
