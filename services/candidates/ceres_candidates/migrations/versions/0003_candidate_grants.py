"""Centres that may enrol a person (I4/C1): the creator's SIRET, or a centre whose duplicate check gave the exact
identity of the record.

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
        "candidate_grants",
        sa.Column("candidate_id", sa.Integer, sa.ForeignKey("candidates.id"), primary_key=True),
        sa.Column("siret", sa.String(14), primary_key=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
    )
    # The records created by a centre before this table: their creator may enrol them.
    op.execute("INSERT INTO candidate_grants (candidate_id, siret, reason, granted_at) "
               "SELECT id, created_by_siret, 'created', created_at FROM candidates WHERE created_by_siret IS NOT NULL")


def downgrade() -> None:
    op.drop_table("candidate_grants")
