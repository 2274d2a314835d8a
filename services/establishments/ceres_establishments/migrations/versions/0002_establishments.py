"""Centres, sites, agréments (+ decisions), titres projection; the centre de reprise (E1); search indexes (E6).

Revision ID: 0002
Revises: 0001
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "centres",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("siret", sa.String(14), nullable=False),
        sa.Column("siren", sa.String(9), nullable=False),
        sa.Column("raison_sociale", sa.String(250), nullable=False),
        sa.Column("adresse", sa.String(300), nullable=False),
        sa.Column("code_postal", sa.String(5)),
        sa.Column("commune_code", sa.String(5)),
        sa.Column("commune_label", sa.String(120)),
        sa.Column("departement", sa.String(3)),
        sa.Column("region", sa.String(3)),
        sa.Column("type_centre", sa.String(30)),
        sa.Column("reseau", sa.String(120)),
        sa.Column("representant", sa.String(200)),
        sa.Column("commentaires", sa.Text),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("siret", name="uq_centres_siret"),  # E1
    )
    op.create_index("ix_centres_siren", "centres", ["siren"])
    op.create_index("ix_centres_departement", "centres", ["departement"])
    op.create_index("ix_centres_region", "centres", ["region"])
    op.create_index("ix_centres_raison_sociale", "centres", ["raison_sociale", "id"])
    op.create_table(
        "sites",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("centre_id", sa.String(36), sa.ForeignKey("centres.id", name="fk_sites_centre_id_centres"),
                  nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("adresse", sa.String(300), nullable=False),
        sa.Column("code_postal", sa.String(5)),
        sa.Column("commune_code", sa.String(5), nullable=False),
        sa.Column("commune_label", sa.String(120)),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("zone", sa.String(5), nullable=False),
        sa.Column("representant", sa.String(200)),
        sa.Column("siret", sa.String(14)),
        sa.Column("closed_at", sa.Date),
        sa.Column("search_text", sa.Text, nullable=False, server_default=""),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_sites_centre_id", "sites", ["centre_id"])
    op.create_index("ix_sites_departement", "sites", ["departement"])
    op.create_index("ix_sites_region", "sites", ["region"])
    op.create_index("ix_sites_siret", "sites", ["siret"])
    op.create_index("ix_sites_name", "sites", ["name", "id"])
    op.create_table(
        "titres",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("version_date", sa.Date, primary_key=True),
        sa.Column("libelle", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(3), nullable=False),
        sa.Column("end_of_validity", sa.Date),
        sa.Column("ccs_of", sa.String(12)),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "agrements",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("site_id", sa.String(36), sa.ForeignKey("sites.id", name="fk_agrements_site_id_sites"),
                  nullable=False),
        sa.Column("titre_code", sa.String(12), nullable=False),
        sa.Column("titre_version", sa.Date, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_until", sa.Date),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_agrements_site_id", "agrements", ["site_id"])
    op.create_index("ix_agrements_titre_code", "agrements", ["titre_code"])
    op.create_table(
        "agrement_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("agrement_id", sa.String(36),
                  sa.ForeignKey("agrements.id", name="fk_agrement_decisions_agrement_id_agrements"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_until", sa.Date),
        sa.Column("reason", sa.Text),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_agrement_decisions_agrement_id", "agrement_decisions", ["agrement_id"])

    if op.get_bind().dialect.name == "postgresql":
        # E6: words anywhere in a name, fast. search_text is already lower case without accents (the same
        # normalise() as the communes referential, so SQLite matches PostgreSQL); trigrams make LIKE '%mot%' use
        # the index. unaccent is there for ad-hoc SQL by the operators.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        op.execute("CREATE INDEX ix_centres_search_trgm ON centres USING gin (search_text gin_trgm_ops)")
        op.execute("CREATE INDEX ix_sites_search_trgm ON sites USING gin (search_text gin_trgm_ops)")

    # E1: the centre de reprise exists from the first day (seed 000: "KLEE, 92350 Le Plessis-Robinson").
    now = datetime.now(timezone.utc)
    centres = sa.table("centres", *(sa.column(c) for c in (
        "id", "siret", "siren", "raison_sociale", "adresse", "code_postal", "commune_code", "commune_label",
        "departement", "region", "search_text", "version", "created_at", "updated_at")))
    op.bulk_insert(centres, [{
        "id": "16f44645-0254-518a-82ff-d9efbf7c084e", "siret": "00000000000000", "siren": "000000000",
        "raison_sociale": "Centre de reprise", "adresse": "KLEE", "code_postal": "92350", "commune_code": "92060",
        "commune_label": "Le Plessis-Robinson", "departement": "92", "region": "11",
        "search_text": "centre de reprise le plessis robinson", "version": 1, "created_at": now, "updated_at": now,
    }])


def downgrade() -> None:
    for name in ("agrement_decisions", "agrements", "titres", "sites", "centres"):
        op.drop_table(name)
