"""The identity service's tables (its own database)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ceres_shared.db import new_metadata
from ceres_shared.platform_tables import PlatformTables

metadata = new_metadata()
platform = PlatformTables(metadata)

TZ = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = metadata


class Account(Base):
    """A person: portal user (centre side, I1) or agent (I4). `email` is the login, stored lower-case."""

    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    civilite: Mapped[str] = mapped_column(String(8))  # "M" / "Mme"
    nom: Mapped[str] = mapped_column(String(100))
    prenom: Mapped[str] = mapped_column(String(100))
    telephone: Mapped[str | None] = mapped_column(String(20))
    search_name: Mapped[str] = mapped_column(String(220), index=True)  # "nom prenom" folded, for I3 search
    kind: Mapped[str] = mapped_column(String(10))  # portal | agent
    agent_role: Mapped[str | None] = mapped_column(String(10))  # ud dreets deets dgefp afpa admin
    departements: Mapped[list] = mapped_column(JSON, default=list)
    regions: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10))  # pending | active | disabled
    created_at: Mapped[datetime] = mapped_column(TZ)
    activated_at: Mapped[datetime | None] = mapped_column(TZ)


class EmailToken(Base):
    """Single-use links sent by mail (activation, reset, agent set-up); only the hash is kept."""

    __tablename__ = "email_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(12))  # activation | reset | setup
    expires_at: Mapped[datetime] = mapped_column(TZ, index=True)
    used_at: Mapped[datetime | None] = mapped_column(TZ)


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)  # account id or client id
    family: Mapped[str] = mapped_column(String(32), index=True)  # one log-in; a replayed token revokes it all
    created_at: Mapped[datetime] = mapped_column(TZ)
    expires_at: Mapped[datetime] = mapped_column(TZ, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(TZ)


class Attempt(Base):
    """Counters of the rate limits and lock-outs (per email, address, account, SIRET), shared by replicas."""

    __tablename__ = "attempts"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(TZ)
    blocked_until: Mapped[datetime | None] = mapped_column(TZ, index=True)


class Centre(Base):
    """Projection of establishments' centres (centre.registered / centre.updated)."""

    __tablename__ = "centres"
    siret: Mapped[str] = mapped_column(String(14), primary_key=True)
    centre_id: Mapped[str] = mapped_column(String(64), index=True)
    siren: Mapped[str] = mapped_column(String(9), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(250))
    adresse: Mapped[str] = mapped_column(Text)
    code_postal: Mapped[str | None] = mapped_column(String(10))
    commune_code: Mapped[str | None] = mapped_column(String(5))
    commune_label: Mapped[str | None] = mapped_column(String(120))
    departement: Mapped[str | None] = mapped_column(String(3), index=True)
    region: Mapped[str | None] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(TZ)


class ActivationCode(Base):
    """E3/I2: one code per centre, sealed with AES-GCM (key derived from CERES_SECRET_KEY), never logged."""

    __tablename__ = "activation_codes"
    siret: Mapped[str] = mapped_column(ForeignKey("centres.siret", ondelete="CASCADE"), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(TZ)
    used_at: Mapped[datetime | None] = mapped_column(TZ)
    used_by: Mapped[str | None] = mapped_column(String(36))


class Membership(Base):
    """A portal account's access to a centre (I2, I3)."""

    __tablename__ = "memberships"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    siret: Mapped[str] = mapped_column(String(14), index=True)
    role: Mapped[str] = mapped_column(String(12))  # gestionnaire | centre
    created_at: Mapped[datetime] = mapped_column(TZ)
    created_by: Mapped[str] = mapped_column(String(80))
    __table_args__ = (Index("uq_memberships_account_siret", "account_id", "siret", unique=True),)


class Invitation(Base):
    __tablename__ = "invitations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    siret: Mapped[str] = mapped_column(String(14), index=True)
    role: Mapped[str] = mapped_column(String(12))
    invited_by: Mapped[str] = mapped_column(String(36))
    invitee_account_id: Mapped[str | None] = mapped_column(String(36))
    invitee_email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10))  # pending | accepted | revoked | expired
    created_at: Mapped[datetime] = mapped_column(TZ)
    expires_at: Mapped[datetime] = mapped_column(TZ)
    decided_at: Mapped[datetime | None] = mapped_column(TZ)


class Client(Base):
    """Machine-to-machine credentials (the Afpa's integration, internal jobs)."""

    __tablename__ = "clients"
    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(10))  # afpa | service
    created_at: Mapped[datetime] = mapped_column(TZ)
    revoked_at: Mapped[datetime | None] = mapped_column(TZ)


class Mail(Base):
    """Mail outbox: written in the transaction of the change, sent by the mail worker (retries, no loss)."""

    __tablename__ = "mail_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ)
    next_attempt_at: Mapped[datetime] = mapped_column(TZ)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(TZ)
    last_error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        Index("ix_mail_outbox_unsent", "next_attempt_at", postgresql_where=text("sent_at IS NULL"),
              sqlite_where=text("sent_at IS NULL")),
    )


class AccessRevocation(Base):
    """L1: access tokens ended before they expire — one token (`jti:<id>`, at log-out) or every token of an account
    issued in an earlier second (`sub:<account>`) — listed to the services while such a token could still live."""

    __tablename__ = "access_revocations"
    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(TZ, index=True)
