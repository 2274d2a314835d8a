"""The partial index of the audit trail's scope refusals (GET /refus-de-perimetre, ceres_shared.audit).

Revision ID: 0007
Revises: 0006
"""
from alembic import op

from ceres_shared.audit import create_refusals_index, drop_refusals_index

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_refusals_index(op)


def downgrade() -> None:
    drop_refusals_index(op)
