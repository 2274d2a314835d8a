"""I4/C1: the centres that may enrol each person (candidates' `candidate.shared` events).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "candidate_grants",
        sa.Column("candidate_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("siret", sa.String(14), primary_key=True),
    )
    # A centre keeps the people it has already enrolled (they came before the grants existed).
    op.execute("INSERT INTO candidate_grants (candidate_id, siret) "
               "SELECT DISTINCT e.candidate_id, c.siret FROM enrolments e "
               "JOIN sessions s ON s.id = e.session_id JOIN centres c ON c.centre_id = s.centre_id")


def downgrade() -> None:
    op.drop_table("candidate_grants")
