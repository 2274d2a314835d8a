"""E6/I4 scope at scale: a territory's sites by (département, centre) and (région, centre), so that "centres with a
site in my territory" reads an index alone (was: the sites' rows). They replace the one-column indexes.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in ("departement", "region"):
        op.drop_index(f"ix_sites_{column}", table_name="sites")
        op.create_index(f"ix_sites_{column}_centre", "sites", [column, "centre_id"])


def downgrade() -> None:
    for column in ("departement", "region"):
        op.drop_index(f"ix_sites_{column}_centre", table_name="sites")
        op.create_index(f"ix_sites_{column}", "sites", [column])
