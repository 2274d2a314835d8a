"""Candidates, their certification path, documents, and the projections of centres, sites and titres.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("genre", sa.String(1), nullable=False),
        sa.Column("nom_naissance", sa.String(100), nullable=False),
        sa.Column("nom_usage", sa.String(100)),
        sa.Column("prenoms", sa.JSON, nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("birth_country_code", sa.String(5), nullable=False),
        sa.Column("birth_country_label", sa.String(100), nullable=False),
        sa.Column("birth_commune_code", sa.String(5)),
        sa.Column("birth_commune_label", sa.String(100)),
        sa.Column("birth_departement", sa.String(3)),
        sa.Column("address_lines", sa.JSON),
        sa.Column("address_code_postal", sa.String(10)),
        sa.Column("address_commune_code", sa.String(5)),
        sa.Column("address_commune_label", sa.String(100)),
        sa.Column("address_country", sa.String(100)),
        sa.Column("address_departement", sa.String(3)),
        sa.Column("address_region", sa.String(3)),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(30)),
        sa.Column("formation", sa.Text),
        sa.Column("emploi", sa.Text),
        sa.Column("vae", sa.Boolean, nullable=False),
        sa.Column("nom_key", sa.String(100), nullable=False),
        sa.Column("usage_key", sa.String(100)),
        sa.Column("prenoms_key", sa.String(200), nullable=False),
        sa.Column("nom_phon", sa.String(100), nullable=False),
        sa.Column("dedup_key", sa.String(250), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_by_siret", sa.String(14)),
        sa.Column("duplicate_reason", sa.Text),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("validated_at", TZ),
        sa.Column("validated_by", sa.String(120)),
        sa.Column("merged_into", sa.Integer, sa.ForeignKey("candidates.id", name="fk_candidates_merged_into_candidates")),
        sa.Column("merged_at", TZ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_candidates_birth_date", "candidates", ["birth_date"])
    op.create_index("ix_candidates_dedup_key", "candidates", ["dedup_key"])
    # text_pattern_ops: prefix searches (LIKE 'DUP%') use the index whatever the database collation.
    ops = {"nom_key": "text_pattern_ops", "prenoms_key": "text_pattern_ops"}
    op.create_index("ix_candidates_nom_key", "candidates", ["nom_key", "prenoms_key"], postgresql_ops=ops)
    op.create_index("ix_candidates_usage_key", "candidates", ["usage_key"],
                    postgresql_ops={"usage_key": "text_pattern_ops"})
    op.create_index("ix_candidates_nom_phon", "candidates", ["nom_phon"])
    op.create_index("ix_candidates_created_by_siret", "candidates", ["created_by_siret"])
    op.create_index("ix_candidates_address_dep", "candidates", ["address_departement"])

    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("candidate_id", sa.Integer, nullable=False),
        sa.Column("first_candidate_id", sa.Integer, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("public_id", sa.String(64)),
        sa.Column("titre_code", sa.String(16)),
        sa.Column("titre_version", sa.Date),
        sa.Column("site_id", sa.String(64)),
        sa.Column("centre_id", sa.String(64)),
        sa.Column("status", sa.String(32)),
        sa.Column("starts_at", TZ),
        sa.Column("ends_at", TZ),
        sa.Column("enrolled", sa.Boolean, nullable=False),
        sa.Column("decision", sa.String(16)),
        sa.Column("ccps_obtained", sa.JSON),
        sa.Column("validated_at", TZ),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("candidate_id", "session_id", name="uq_enrolments_candidate_session"),
    )
    op.create_index("ix_enrolments_candidate_id", "enrolments", ["candidate_id"])
    op.create_index("ix_enrolments_session", "enrolments", ["session_id"])
    op.create_index("ix_enrolments_centre", "enrolments", ["centre_id"])

    op.create_table(
        "documents",
        sa.Column("document_number", sa.String(64), primary_key=True),
        sa.Column("candidate_id", sa.Integer, nullable=False),
        sa.Column("document_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("session_id", sa.String(64)),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_documents_candidate_id", "documents", ["candidate_id"])

    op.create_table(
        "centre_refs",
        sa.Column("centre_id", sa.String(64), primary_key=True),
        sa.Column("siret", sa.String(14), nullable=False),
    )
    op.create_index("ix_centre_refs_siret", "centre_refs", ["siret"])
    op.create_table(
        "site_refs",
        sa.Column("site_id", sa.String(64), primary_key=True),
        sa.Column("centre_id", sa.String(64)),
        sa.Column("departement", sa.String(3)),
        sa.Column("region", sa.String(3)),
    )
    op.create_table(
        "titre_refs",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("version_date", sa.Date, primary_key=True),
        sa.Column("libelle", sa.String(250), nullable=False),
        sa.Column("ccps", sa.JSON),
    )


def downgrade() -> None:
    for table in ("titre_refs", "site_refs", "centre_refs", "documents", "enrolments", "candidates"):
        op.drop_table(table)
