"""Printing: the cover letter of each reprint recorded before reprints had one (P1: every diploma goes with its cover
letter; P8 reprints) — numbered as CERES numbers letters, dated of this upgrade. Data only.

Revision ID: 0004
Revises: 0003
"""
import secrets
from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# As domain.rules numbers a letter (« C2024-7KQ4-M9XZ »), copied so that this revision never changes with the code.
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def _letter_number(year: int) -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"C{year}-{body[:4]}-{body[4:]}"


def upgrade() -> None:
    conn = op.get_bind()
    session, candidacy, document = (sa.table("validated_session", sa.column("session_id"), sa.column("origin")),
                                    sa.table("candidacy", sa.column("id"), sa.column("session_id")),
                                    sa.table("document", sa.column("number"), sa.column("candidacy_id"),
                                             sa.column("kind"), sa.column("position"), sa.column("issued_on", sa.Date)))
    has_letter = sa.exists().where(document.c.candidacy_id == candidacy.c.id, document.c.kind == "lettre_diplome")
    lacking = conn.execute(sa.select(candidacy.c.id).join(session, session.c.session_id == candidacy.c.session_id)
                           .where(session.c.origin == "avant_ceres", ~has_letter)).scalars().all()
    today = date.today()
    for candidacy_id in lacking:
        conn.execute(document.insert().values(number=_letter_number(today.year), candidacy_id=candidacy_id,
                                              kind="lettre_diplome", position=1, issued_on=today))


def downgrade() -> None:
    """Nothing: a letter may have been printed since; its number stays taken."""
