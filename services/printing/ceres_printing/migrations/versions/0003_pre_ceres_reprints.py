"""Printing: validated_session.origin — a pre-CERES diploma reprinted with its original number (P8) hangs on a
session row of its own, marked « avant_ceres ».

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("validated_session") as batch:
        batch.add_column(sa.Column("origin", sa.String(12), nullable=False, server_default="ceres"))


def downgrade() -> None:
    with op.batch_alter_table("validated_session") as batch:
        batch.drop_column("origin")
