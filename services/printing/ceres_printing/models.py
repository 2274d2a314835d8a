"""The printing service's tables (its own database).

Copies of other services' data (sites, titres, candidates, validated sessions) are fed by events; the rest is
ours: candidacies with their documents (P1, P8), print requests and the items the Afpa prints (P3-P7), batches
(P6), verification keys (B1).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ceres_shared.db import BIGID, new_metadata
from ceres_shared.platform_tables import PlatformTables

metadata = new_metadata()
platform = PlatformTables(metadata)



class Base(DeclarativeBase):
    metadata = metadata


# --- copies fed by events -------------------------------------------------------------------------------------
class SiteCopy(Base):
    __tablename__ = "site_copy"
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    centre_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(250))
    commune_code: Mapped[str] = mapped_column(String(5))
    commune_label: Mapped[str | None] = mapped_column(String(120))
    departement: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(3))
    zone: Mapped[str] = mapped_column(String(5))


class TitreCopy(Base):
    __tablename__ = "titre_copy"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    version_date: Mapped[date] = mapped_column(Date, primary_key=True)
    libelle: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(3))
    level: Mapped[int] = mapped_column(Integer)
    nsf_codes: Mapped[list] = mapped_column(JSON)
    rncp: Mapped[str | None] = mapped_column(String(20))
    jo_date: Mapped[date | None] = mapped_column(Date)
    ccps: Mapped[list] = mapped_column(JSON)
    ccs_of: Mapped[str | None] = mapped_column(String(12))


class CandidateCopy(Base):
    __tablename__ = "candidate_copy"
    candidate_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    genre: Mapped[str] = mapped_column(String(1))
    nom_naissance: Mapped[str] = mapped_column(String(120))
    nom_usage: Mapped[str | None] = mapped_column(String(120))
    prenoms: Mapped[list] = mapped_column(JSON)
    birth_date: Mapped[date] = mapped_column(Date)
    birth_country_label: Mapped[str] = mapped_column(String(120))
    birth_commune_label: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[dict | None] = mapped_column(JSON)
    merged_into: Mapped[int | None] = mapped_column(BigInteger)


class ValidatedSession(Base):
    __tablename__ = "validated_session"
    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_id: Mapped[str] = mapped_column(String(60))
    titre_code: Mapped[str] = mapped_column(String(12))
    titre_version: Mapped[date] = mapped_column(Date)
    site_id: Mapped[str] = mapped_column(String(64))
    site_commune_code: Mapped[str] = mapped_column(String(5))
    centre_id: Mapped[str] = mapped_column(String(64))
    # Scope of the session (UD = the site's département, I4); from the site copy, else from the commune code.
    departement: Mapped[str] = mapped_column(String(3), index=True)
    region: Mapped[str | None] = mapped_column(String(3), index=True)
    ends_on: Mapped[date | None] = mapped_column(Date)
    validated_by: Mapped[str] = mapped_column(String(120))
    validated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # "ceres": validated in CERES (session.validated); "avant_ceres": stands for the session of a pre-CERES diploma
    # reprinted with its original number (P8), created by an agent, out of the P9 dashboard.
    origin: Mapped[str] = mapped_column(String(12), default="ceres", server_default="ceres")


PRE_CERES = "avant_ceres"  # ValidatedSession.origin of a reprint (P8)


# --- ours -----------------------------------------------------------------------------------------------------
class Candidacy(Base):
    """One candidate's decision in one validated session and the state of its documents (P1-P5)."""

    __tablename__ = "candidacy"
    __table_args__ = (UniqueConstraint("session_id", "candidate_id", name="uq_candidacy_session_candidate"),)
    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("validated_session.session_id"), index=True)
    candidate_id: Mapped[int] = mapped_column(BigInteger, index=True)
    position: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(10))
    ccps_obtained: Mapped[list] = mapped_column(JSON)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[str | None] = mapped_column(String(120))
    initial_request_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_request_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duplicata_count: Mapped[int] = mapped_column(Integer, default=0)


class Document(Base):
    __tablename__ = "document"
    number: Mapped[str] = mapped_column(String(24), primary_key=True)  # P8, random: nothing enumerable (B1)
    candidacy_id: Mapped[int] = mapped_column(ForeignKey("candidacy.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    position: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)


class PrintRequest(Base):
    __tablename__ = "print_request"
    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    candidacy_id: Mapped[int] = mapped_column(ForeignKey("candidacy.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # initial, duplicata, resend (P7)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str] = mapped_column(String(120))


class PrintItem(Base):
    """One document printed and posted once: what the Afpa reports on (B3)."""

    __tablename__ = "print_item"
    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("print_request.id"), index=True)
    document_number: Mapped[str] = mapped_column(ForeignKey("document.number"), index=True)
    batch_id: Mapped[str | None] = mapped_column(ForeignKey("batch.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))  # queued, requested (in a batch), printed, posted, pnd, delivered
    addressee: Mapped[str] = mapped_column(String(250))
    address: Mapped[dict] = mapped_column(JSON)
    routed_to: Mapped[str] = mapped_column(String(10))  # candidat | deets (P6)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


Index("ix_print_item_queued", PrintItem.id, postgresql_where=PrintItem.batch_id.is_(None),
      sqlite_where=PrintItem.batch_id.is_(None))


class Batch(Base):
    __tablename__ = "batch"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)  # ready, acknowledged
    item_count: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    archive: Mapped[bytes] = mapped_column(LargeBinary)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))


class VerificationKey(Base):
    """HMAC keys of the codes printed on documents (B1); rotated, old keys kept to check old documents."""

    __tablename__ = "verification_key"
    kid: Mapped[str] = mapped_column(String(16), primary_key=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
