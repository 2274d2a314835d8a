"""Centres that may enrol a person (I4/C1): the creator's SIRET, or a centre whose duplicate check gave the exact
identity of the record.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

from ceres_shared.events import make_envelope

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
    # The records created by a centre before this table: their creator may enrol them, and the sessions service is
    # told through the outbox, as for a new record (grants.py).
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, created_by_siret, created_at FROM candidates "
                                "WHERE created_by_siret IS NOT NULL ORDER BY id")).all()
    if rows:
        bind.execute(sa.text("INSERT INTO candidate_grants (candidate_id, siret, reason, granted_at) "
                             "VALUES (:id, :siret, 'created', :at)"),
                     [{"id": r.id, "siret": r.created_by_siret, "at": r.created_at} for r in rows])
        envelopes = [make_envelope("candidate.shared", {"candidate_id": r.id, "siret": r.created_by_siret,
                                                        "reason": "created"}, producer="candidates") for r in rows]
        bind.execute(sa.text("INSERT INTO outbox (event_id, event_type, body) VALUES (:id, :type, :body)"),
                     [{"id": e.id, "type": e.type, "body": e.to_json()} for e in envelopes])


def downgrade() -> None:
    op.drop_table("candidate_grants")
