"""S10 « suivi des contrôles »: the controls of sessions; S4: a relaxation period can be closed early.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("relaxations") as batch:
        batch.add_column(sa.Column("closed_at", TS, nullable=True))
        batch.add_column(sa.Column("closed_by", sa.String(120), nullable=True))
        batch.add_column(sa.Column("closure_reason", sa.Text, nullable=True))
    op.create_table(
        "session_controls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(36), sa.ForeignKey("sessions.id", name="fk_session_controls_session_id_sessions"),
                  nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("planned_on", sa.Date, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("outcome", sa.String(14), nullable=True),
        sa.Column("observations", sa.Text, nullable=True),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("done_by", sa.String(120), nullable=True),
        sa.Column("done_on", sa.Date, nullable=True),
        sa.Column("cancel_reason", sa.Text, nullable=True),
    )
    op.create_index("ix_session_controls_session_id", "session_controls", ["session_id"])
    op.create_index("ix_session_controls_departement_planned", "session_controls", ["departement", "planned_on"])
    op.create_index("ix_session_controls_region_planned", "session_controls", ["region", "planned_on"])
    op.create_index("ix_session_controls_status_planned", "session_controls", ["status", "planned_on"])


def downgrade() -> None:
    op.drop_table("session_controls")
    with op.batch_alter_table("relaxations") as batch:
        batch.drop_column("closure_reason")
        batch.drop_column("closed_by")
        batch.drop_column("closed_at")
