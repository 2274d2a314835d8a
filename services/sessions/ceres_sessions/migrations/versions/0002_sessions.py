"""Titres catalogue, projections, sessions and their history, jurés, mass operations, deadline warnings.

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
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "titres",
        sa.Column("code", sa.String(12), primary_key=True),
        sa.Column("version_date", sa.Date, primary_key=True),
        sa.Column("libelle", sa.String(250), nullable=False),
        sa.Column("kind", sa.String(3), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("nsf_codes", sa.JSON, nullable=False),
        sa.Column("rncp", sa.String(20)),
        sa.Column("jo_date", sa.Date),
        sa.Column("end_of_validity", sa.Date),
        sa.Column("prolongation_until", sa.Date),
        sa.Column("ccps", sa.JSON, nullable=False),
        sa.Column("ccs_of", sa.String(12)),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("code", "version_date", name="pk_titres"),
    )
    op.create_table(
        "centres",
        sa.Column("centre_id", sa.String(64), primary_key=True),
        sa.Column("siret", sa.String(14)),
        sa.Column("raison_sociale", sa.String(250)),
        sa.Column("commune_code", sa.String(5)),
        sa.Column("type_centre", sa.String(40)),
        sa.PrimaryKeyConstraint("centre_id", name="pk_centres"),
    )
    op.create_index("ix_centres_siret", "centres", ["siret"])
    op.create_table(
        "sites",
        sa.Column("site_id", sa.String(64)),
        sa.Column("centre_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("commune_code", sa.String(5), nullable=False),
        sa.Column("commune_label", sa.String(120)),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("zone", sa.String(5), nullable=False),
        sa.Column("closed_at", sa.Date),
        sa.PrimaryKeyConstraint("site_id", name="pk_sites"),
    )
    op.create_index("ix_sites_centre_id", "sites", ["centre_id"])
    op.create_table(
        "agrements",
        sa.Column("agrement_id", sa.String(64)),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=False),
        sa.Column("titre_code", sa.String(12), nullable=False),
        sa.Column("titre_version", sa.Date, nullable=False),
        sa.Column("valid_from", sa.Date),
        sa.Column("valid_until", sa.Date),
        sa.Column("status", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("agrement_id", name="pk_agrements"),
    )
    op.create_index("ix_agrements_site_id", "agrements", ["site_id"])
    op.create_table(
        "candidates",
        sa.Column("candidate_id", sa.BigInteger, autoincrement=False),
        sa.Column("nom", sa.String(120), nullable=False),
        sa.Column("prenoms", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date),
        sa.Column("merged_into", sa.BigInteger),
        sa.PrimaryKeyConstraint("candidate_id", name="pk_candidates"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(36)),
        sa.Column("public_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(5), nullable=False),
        sa.Column("titre_code", sa.String(12), nullable=False),
        sa.Column("titre_version", sa.Date, nullable=False),
        sa.Column("ccp_code", sa.String(40)),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=False),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("site_commune_code", sa.String(5), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("convocation_at", TS, nullable=False),
        sa.Column("real_end_date", sa.Date),
        sa.Column("dte_requested_at", TS),
        sa.Column("dte_candidate_count", sa.Integer),
        sa.Column("under_relaxation", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("validated_at", TS),
        sa.Column("validated_by", sa.String(120)),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("public_id", name="uq_sessions_public_id"),
    )
    # Dashboard (S10) and mass selection (S9): scope + date range, then status.
    op.create_index("ix_sessions_departement_starts", "sessions", ["departement", "starts_at"])
    op.create_index("ix_sessions_region_starts", "sessions", ["region", "starts_at"])
    op.create_index("ix_sessions_starts_status", "sessions", ["starts_at", "status"])
    op.create_index("ix_sessions_centre", "sessions", ["centre_id"])
    op.create_index("ix_sessions_site", "sessions", ["site_id"])
    op.create_table(
        "session_transitions",
        sa.Column("id", BIGID, autoincrement=True),
        sa.Column("session_id", sa.String(36), sa.ForeignKey("sessions.id", name="fk_session_transitions_session_id_sessions"), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(30)),
        sa.Column("to_status", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("actor_role", sa.String(20), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("relaxation_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_session_transitions"),
    )
    op.create_index("ix_session_transitions_session_id", "session_transitions", ["session_id"])
    op.create_table(
        "enrolments",
        sa.Column("session_id", sa.String(36), sa.ForeignKey("sessions.id", name="fk_enrolments_session_id_sessions")),
        sa.Column("candidate_id", sa.BigInteger, autoincrement=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("decision", sa.String(10)),
        sa.Column("ccps_obtained", sa.JSON, nullable=False),
        sa.Column("enrolled_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("session_id", "candidate_id", name="pk_enrolments"),
    )
    op.create_index("ix_enrolments_candidate_id", "enrolments", ["candidate_id"])
    op.create_table(
        "relaxations",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_relaxations"),
    )
    op.create_table(
        "counters",
        sa.Column("name", sa.String(40)),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
    )
    counters = sa.table("counters", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(counters, [{"name": "session_public_id", "value": 0}])
    op.create_table(
        "jures",
        sa.Column("id", sa.String(36)),
        sa.Column("civilite", sa.String(4), nullable=False),
        sa.Column("nom", sa.String(120), nullable=False),
        sa.Column("prenom", sa.String(120), nullable=False),
        sa.Column("email", sa.String(250)),
        sa.Column("departement", sa.String(3), nullable=False),
        sa.Column("region", sa.String(3), nullable=False),
        sa.Column("competences", sa.JSON, nullable=False),
        sa.Column("commentaires", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_jures"),
    )
    op.create_index("ix_jures_departement", "jures", ["departement"])
    op.create_table(
        "habilitations",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("jure_id", sa.String(36), sa.ForeignKey("jures.id", name="fk_habilitations_jure_id_jures"), nullable=False),
        sa.Column("titre_code", sa.String(12), nullable=False),
        sa.Column("valid_from", sa.Date, nullable=False),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_habilitations"),
    )
    op.create_index("ix_habilitations_jure_id", "habilitations", ["jure_id"])
    op.create_index("ix_habilitations_titre_code", "habilitations", ["titre_code"])
    op.create_table(
        "jure_conflicts",
        sa.Column("jure_id", sa.String(36), sa.ForeignKey("jures.id", name="fk_jure_conflicts_jure_id_jures")),
        sa.Column("candidate_id", sa.BigInteger, autoincrement=False),
        sa.Column("nature", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("jure_id", "candidate_id", name="pk_jure_conflicts"),
    )
    op.create_table(
        "session_jury",
        sa.Column("session_id", sa.String(36), sa.ForeignKey("sessions.id", name="fk_session_jury_session_id_sessions")),
        sa.Column("jure_id", sa.String(36), sa.ForeignKey("jures.id", name="fk_session_jury_jure_id_jures")),
        sa.PrimaryKeyConstraint("session_id", "jure_id", name="pk_session_jury"),
    )
    op.create_table(
        "mass_operations",
        sa.Column("id", sa.String(36)),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("criteria", sa.JSON, nullable=False),
        sa.Column("new_end_date", sa.Date),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("session_ids", sa.JSON, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_role", sa.String(20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS),
        sa.PrimaryKeyConstraint("id", name="pk_mass_operations"),
    )
    op.create_index("ix_mass_operations_state", "mass_operations", ["state"])
    op.create_table(
        "deadline_warnings",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("session_id", sa.String(36)),
        sa.Column("departement", sa.String(3)),
        sa.Column("region", sa.String(3)),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("raised_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deadline_warnings"),
    )
    op.create_index("uq_deadline_warning", "deadline_warnings", ["kind", "subject_id", "due_date"], unique=True)
    op.create_index("ix_deadline_warnings_session_id", "deadline_warnings", ["session_id"])


def downgrade() -> None:
    for name in ("deadline_warnings", "mass_operations", "session_jury", "jure_conflicts", "habilitations", "jures",
                 "counters", "relaxations", "enrolments", "session_transitions", "sessions", "candidates",
                 "agrements", "sites", "centres", "titres"):
        op.drop_table(name)
