"""Answers kept for retries with an Idempotency-Key (ceres_shared.idempotency).

Revision ID: 0007
Revises: 0006
"""
from alembic import op

from ceres_shared.idempotency import create_table, drop_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_table(op)


def downgrade() -> None:
    drop_table(op)
