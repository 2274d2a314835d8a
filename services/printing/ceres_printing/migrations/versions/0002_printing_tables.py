"""Printing: copies (sites, titres, candidates, validated sessions), candidacies, documents, print requests and
items, batches, verification keys.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "site_copy",
        sa.Column("site_id", sa.String(64), primary_key=True),
        sa.Column("centre_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("commune_code", sa.String(5), nullable=False),
        sa.Column("commune_label", sa.String(120)),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("zone", sa.String(5), nullable=False),
    )
    op.create_table(
        "titre_copy",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("version_date", sa.Date, primary_key=True),
        sa.Column("libelle", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(3), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("nsf_codes", sa.JSON, nullable=False),
        sa.Column("rncp", sa.String(20)),
        sa.Column("jo_date", sa.Date),
        sa.Column("ccps", sa.JSON, nullable=False),
        sa.Column("ccs_of", sa.String(12)),
    )
    op.create_table(
        "candidate_copy",
        sa.Column("candidate_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("genre", sa.String(1), nullable=False),
        sa.Column("nom_naissance", sa.String(120), nullable=False),
        sa.Column("nom_usage", sa.String(120)),
        sa.Column("prenoms", sa.JSON, nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("birth_country_label", sa.String(120), nullable=False),
        sa.Column("birth_commune_label", sa.String(120)),
        sa.Column("address", sa.JSON),
        sa.Column("merged_into", sa.BigInteger),
    )
    op.create_table(
        "validated_session",
        sa.Column("session_id", sa.String(64), primary_key=True),
        sa.Column("public_id", sa.String(60), nullable=False),
        sa.Column("titre_code", sa.String(12), nullable=False),
        sa.Column("titre_version", sa.Date, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("site_commune_code", sa.String(5), nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3)),
        sa.Column("ends_on", sa.Date),
        sa.Column("validated_by", sa.String(120), nullable=False),
        sa.Column("validated_at", TZ, nullable=False),
    )
    op.create_index("ix_validated_session_departement", "validated_session", ["departement"])
    op.create_index("ix_validated_session_region", "validated_session", ["region"])
    op.create_table(
        "candidacy",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("session_id", sa.String(64), sa.ForeignKey("validated_session.session_id"), nullable=False),
        sa.Column("candidate_id", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("ccps_obtained", sa.JSON, nullable=False),
        sa.Column("verified_at", TZ),
        sa.Column("verified_by", sa.String(120)),
        sa.Column("initial_request_at", TZ),
        sa.Column("last_request_at", TZ),
        sa.Column("duplicata_count", sa.Integer, nullable=False),
        sa.UniqueConstraint("session_id", "candidate_id", name="uq_candidacy_session_candidate"),
    )
    op.create_index("ix_candidacy_session_id", "candidacy", ["session_id"])
    op.create_index("ix_candidacy_candidate_id", "candidacy", ["candidate_id"])
    op.create_table(
        "document",
        sa.Column("number", sa.String(24), primary_key=True),
        sa.Column("candidacy_id", BIGID, sa.ForeignKey("candidacy.id"), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("issued_on", sa.Date, nullable=False),
    )
    op.create_index("ix_document_candidacy_id", "document", ["candidacy_id"])
    op.create_table(
        "print_request",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("candidacy_id", BIGID, sa.ForeignKey("candidacy.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("requested_at", TZ, nullable=False),
        sa.Column("requested_by", sa.String(120), nullable=False),
    )
    op.create_index("ix_print_request_candidacy_id", "print_request", ["candidacy_id"])
    op.create_table(
        "batch",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("archive", sa.LargeBinary, nullable=False),
        sa.Column("acknowledged_at", TZ),
        sa.Column("acknowledged_by", sa.String(120)),
    )
    op.create_index("ix_batch_created_at", "batch", ["created_at"])
    op.create_index("ix_batch_status", "batch", ["status"])
    op.create_table(
        "print_item",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("request_id", BIGID, sa.ForeignKey("print_request.id"), nullable=False),
        sa.Column("document_number", sa.String(24), sa.ForeignKey("document.number"), nullable=False),
        sa.Column("batch_id", sa.String(40), sa.ForeignKey("batch.id")),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("addressee", sa.String(250), nullable=False),
        sa.Column("address", sa.JSON, nullable=False),
        sa.Column("routed_to", sa.String(10), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("status_at", TZ),
        sa.Column("resent_at", TZ),
    )
    op.create_index("ix_print_item_request_id", "print_item", ["request_id"])
    op.create_index("ix_print_item_document_number", "print_item", ["document_number"])
    op.create_index("ix_print_item_batch_id", "print_item", ["batch_id"])
    # The batch builder only scans what is not batched yet.
    op.create_index("ix_print_item_queued", "print_item", ["id"],
                    postgresql_where=sa.text("batch_id IS NULL"), sqlite_where=sa.text("batch_id IS NULL"))
    op.create_table(
        "verification_key",
        sa.Column("kid", sa.String(16), primary_key=True),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("retired_at", TZ),
        sa.Column("note", sa.Text),
    )


def downgrade() -> None:
    for table in ("verification_key", "print_item", "batch", "print_request", "document", "candidacy",
                  "validated_session", "candidate_copy", "titre_copy", "site_copy"):
        op.drop_table(table)
