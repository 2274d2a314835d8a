"""E6 search at scale: search_text holds only words ([a-z0-9]+, space-separated), indexed on PostgreSQL by a
full-text GIN index on `to_tsvector('simple', search_text)` (word prefixes: a few posting lists per query instead
of the trigram index's many); the trigram indexes, no longer queried, go. SQLite keeps LIKE on the same words.

Revision ID: 0003
Revises: 0002
"""
import re

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_WORD = re.compile(r"[a-z0-9]+")


def _rewrite_search_text(table_name: str) -> None:
    """search_text was normalise()d already (lower case, no accents); keep only its letters and digits."""
    bind = op.get_bind()
    table = sa.table(table_name, sa.column("id"), sa.column("search_text"))
    rows = bind.execute(sa.select(table.c.id, table.c.search_text)).all()
    changed = [{"key": id_, "words": " ".join(_WORD.findall(text or ""))} for id_, text in rows]
    changed = [row for row, (_, text) in zip(changed, rows) if row["words"] != (text or "")]
    if changed:
        bind.execute(table.update().where(table.c.id == sa.bindparam("key")).values(search_text=sa.bindparam("words")),
                     changed)


def upgrade() -> None:
    for name in ("centres", "sites"):
        _rewrite_search_text(name)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_centres_search_trgm")
        op.execute("DROP INDEX IF EXISTS ix_sites_search_trgm")
        # fastupdate off: no pending list that every search reads through until the next VACUUM (measured: a
        # 2 ms lookup took 25 ms); centres and sites change seldom, writing the index at once costs little
        for table in ("centres", "sites"):
            op.execute(f"CREATE INDEX ix_{table}_search_words ON {table} "
                       "USING gin (to_tsvector('simple', search_text)) WITH (fastupdate = off)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_centres_search_words")
        op.execute("DROP INDEX IF EXISTS ix_sites_search_words")
        op.execute("CREATE INDEX ix_centres_search_trgm ON centres USING gin (search_text gin_trgm_ops)")
        op.execute("CREATE INDEX ix_sites_search_trgm ON sites USING gin (search_text gin_trgm_ops)")
