"""Access tokens revoked before they expire (L1): log-out, every log-in of an account ended.

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
    op.create_table(
        "access_revocations",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_access_revocations_revoked_at", "access_revocations", ["revoked_at"])


def downgrade() -> None:
    op.drop_index("ix_access_revocations_revoked_at", table_name="access_revocations")
    op.drop_table("access_revocations")
