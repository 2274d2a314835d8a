"""Accounts, tokens, rate-limit counters, centres projection, activation codes, memberships, invitations,
machine clients and the mail outbox.

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
        "accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("civilite", sa.String(8), nullable=False),
        sa.Column("nom", sa.String(100), nullable=False),
        sa.Column("prenom", sa.String(100), nullable=False),
        sa.Column("telephone", sa.String(20)),
        sa.Column("search_name", sa.String(220), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("agent_role", sa.String(10)),
        sa.Column("departements", sa.JSON, nullable=False),
        sa.Column("regions", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("activated_at", TZ),
        sa.UniqueConstraint("email", name="uq_accounts_email"),
    )
    op.create_index("ix_accounts_search_name", "accounts", ["search_name"])
    op.create_table(
        "email_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id", ondelete="CASCADE",
                                                             name="fk_email_tokens_account_id_accounts"),
                  nullable=False),
        sa.Column("purpose", sa.String(12), nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
    )
    op.create_index("ix_email_tokens_account_id", "email_tokens", ["account_id"])
    op.create_index("ix_email_tokens_expires_at", "email_tokens", ["expires_at"])
    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
    )
    op.create_index("ix_refresh_tokens_subject", "refresh_tokens", ["subject"])
    op.create_index("ix_refresh_tokens_family", "refresh_tokens", ["family"])
    op.create_index("ix_refresh_tokens_expires_at", "refresh_tokens", ["expires_at"])
    op.create_table(
        "attempts",
        sa.Column("key", sa.String(120), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("window_start", TZ, nullable=False),
        sa.Column("blocked_until", TZ),
    )
    op.create_index("ix_attempts_blocked_until", "attempts", ["blocked_until"])
    op.create_table(
        "centres",
        sa.Column("siret", sa.String(14), primary_key=True),
        sa.Column("centre_id", sa.String(64), nullable=False),
        sa.Column("siren", sa.String(9), nullable=False),
        sa.Column("raison_sociale", sa.String(250), nullable=False),
        sa.Column("adresse", sa.Text, nullable=False),
        sa.Column("code_postal", sa.String(10)),
        sa.Column("commune_code", sa.String(5)),
        sa.Column("commune_label", sa.String(120)),
        sa.Column("departement", sa.String(3)),
        sa.Column("region", sa.String(3)),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_index("ix_centres_centre_id", "centres", ["centre_id"])
    op.create_index("ix_centres_siren", "centres", ["siren"])
    op.create_index("ix_centres_departement", "centres", ["departement"])
    op.create_table(
        "activation_codes",
        sa.Column("siret", sa.String(14), sa.ForeignKey("centres.siret", ondelete="CASCADE",
                                                       name="fk_activation_codes_siret_centres"),
                  primary_key=True),
        sa.Column("sealed", sa.LargeBinary, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("used_at", TZ),
        sa.Column("used_by", sa.String(36)),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("account_id", sa.String(36), sa.ForeignKey("accounts.id", ondelete="CASCADE",
                                                             name="fk_memberships_account_id_accounts"),
                  nullable=False),
        sa.Column("siret", sa.String(14), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
    )
    op.create_index("ix_memberships_account_id", "memberships", ["account_id"])
    op.create_index("ix_memberships_siret", "memberships", ["siret"])
    op.create_index("uq_memberships_account_siret", "memberships", ["account_id", "siret"], unique=True)
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("siret", sa.String(14), nullable=False),
        sa.Column("role", sa.String(12), nullable=False),
        sa.Column("invited_by", sa.String(36), nullable=False),
        sa.Column("invitee_account_id", sa.String(36)),
        sa.Column("invitee_email", sa.String(254), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("decided_at", TZ),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_index("ix_invitations_siret", "invitations", ["siret"])
    op.create_table(
        "clients",
        sa.Column("client_id", sa.String(40), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("to_addr", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent_at", TZ),
        sa.Column("last_error", sa.Text),
    )
    # The sender only scans what is unsent.
    op.create_index("ix_mail_outbox_unsent", "mail_outbox", ["next_attempt_at"],
                    postgresql_where=sa.text("sent_at IS NULL"), sqlite_where=sa.text("sent_at IS NULL"))


def downgrade() -> None:
    for name in ("mail_outbox", "clients", "invitations", "memberships", "activation_codes", "centres",
                 "attempts", "refresh_tokens", "email_tokens", "accounts"):
        op.drop_table(name)
