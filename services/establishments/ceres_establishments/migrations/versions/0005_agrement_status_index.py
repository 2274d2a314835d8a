"""E7: the agréments of one status in a territory (the DREETS's queue « en cours d'instruction ») read from an index
on (status, site_id) instead of every agrément row.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_agrements_status_site", "agrements", ["status", "site_id"])


def downgrade() -> None:
    op.drop_index("ix_agrements_status_site", table_name="agrements")
