"""The candidates service's tables (its own database)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ceres_shared.db import new_metadata
from ceres_shared.platform_tables import PlatformTables

metadata = new_metadata()
platform = PlatformTables(metadata)

DRAFT = "brouillon"
VALIDATED = "valide"


class Base(DeclarativeBase):
    metadata = metadata


class Candidate(Base):
    """One person for life (C1, C2). `id` is the CERES id: a sequence on PostgreSQL, AUTOINCREMENT on SQLite, so a
    number is never given twice, even after a merge."""

    __tablename__ = "candidates"
    __table_args__ = (
        Index("ix_candidates_birth_date", "birth_date"),
        Index("ix_candidates_dedup_key", "dedup_key"),
        Index("ix_candidates_nom_key", "nom_key", "prenoms_key"),
        Index("ix_candidates_usage_key", "usage_key"),
        Index("ix_candidates_nom_phon", "nom_phon"),
        Index("ix_candidates_created_by_siret", "created_by_siret"),
        Index("ix_candidates_address_dep", "address_departement"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(10), default=DRAFT)
    genre: Mapped[str] = mapped_column(String(1))
    nom_naissance: Mapped[str] = mapped_column(String(100))
    nom_usage: Mapped[str | None] = mapped_column(String(100))
    prenoms: Mapped[list] = mapped_column(JSON)
    birth_date: Mapped[date] = mapped_column(Date)
    birth_country_code: Mapped[str] = mapped_column(String(5))
    birth_country_label: Mapped[str] = mapped_column(String(100))
    birth_commune_code: Mapped[str | None] = mapped_column(String(5))
    birth_commune_label: Mapped[str | None] = mapped_column(String(100))  # as it was named on the birth date (C3)
    birth_departement: Mapped[str | None] = mapped_column(String(3))
    address_lines: Mapped[list | None] = mapped_column(JSON)
    address_code_postal: Mapped[str | None] = mapped_column(String(10))
    address_commune_code: Mapped[str | None] = mapped_column(String(5))
    address_commune_label: Mapped[str | None] = mapped_column(String(100))
    address_country: Mapped[str | None] = mapped_column(String(100))
    address_departement: Mapped[str | None] = mapped_column(String(3))
    address_region: Mapped[str | None] = mapped_column(String(3))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    formation: Mapped[str | None] = mapped_column(Text)  # training followed (C2 "formation et emploi")
    emploi: Mapped[str | None] = mapped_column(Text)
    vae: Mapped[bool] = mapped_column(Boolean, default=False)
    # Search and duplicate keys (C1), derived from the names on every write.
    nom_key: Mapped[str] = mapped_column(String(100))
    usage_key: Mapped[str | None] = mapped_column(String(100))
    prenoms_key: Mapped[str] = mapped_column(String(200))
    nom_phon: Mapped[str] = mapped_column(String(100))
    dedup_key: Mapped[str] = mapped_column(String(250))
    # Who created it: a centre (its SIRET) sees the records it created.
    created_by: Mapped[str] = mapped_column(String(120))
    created_by_siret: Mapped[str | None] = mapped_column(String(14))
    duplicate_reason: Mapped[str | None] = mapped_column(Text)  # an agent created it despite a likely duplicate
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    validated_by: Mapped[str | None] = mapped_column(String(120))
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"))
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CandidateGrant(Base):
    """I4/C1: a centre (SIRET) that may enrol this person — it created the record, or its duplicate check gave the
    person's exact identity. Sent to the sessions service as `candidate.shared`; it does not open the record."""

    __tablename__ = "candidate_grants"

    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), primary_key=True)
    reason: Mapped[str] = mapped_column(String(16))  # created, exact_match
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Enrolment(Base):
    """One session of the certification path, projected from the sessions service's events."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("candidate_id", "session_id", name="uq_enrolments_candidate_session"),
        Index("ix_enrolments_session", "session_id"),
        Index("ix_enrolments_centre", "centre_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    candidate_id: Mapped[int] = mapped_column(Integer, index=True)
    first_candidate_id: Mapped[int] = mapped_column(Integer)  # the id the sessions service used (kept after merges)
    session_id: Mapped[str] = mapped_column(String(64))
    public_id: Mapped[str | None] = mapped_column(String(64))
    titre_code: Mapped[str | None] = mapped_column(String(16))
    titre_version: Mapped[date | None] = mapped_column(Date)
    site_id: Mapped[str | None] = mapped_column(String(64))
    centre_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(32))
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    enrolled: Mapped[bool] = mapped_column(Boolean, default=True)  # false once removed from the session
    decision: Mapped[str | None] = mapped_column(String(16))
    ccps_obtained: Mapped[list | None] = mapped_column(JSON)
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Document(Base):
    """Printed documents of the candidate (print.* events, B3)."""

    __tablename__ = "documents"

    document_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    candidate_id: Mapped[int] = mapped_column(Integer, index=True)
    document_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    session_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CentreRef(Base):
    """centre_id -> SIRET, from centre.* events: a centre user's token carries SIRETs, sessions carry centre ids."""

    __tablename__ = "centre_refs"

    centre_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), index=True)


class SiteRef(Base):
    """Where each site is, from site.* events: agents see the candidates of sessions held in their territory."""

    __tablename__ = "site_refs"

    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    centre_id: Mapped[str | None] = mapped_column(String(64))
    departement: Mapped[str | None] = mapped_column(String(3))
    region: Mapped[str | None] = mapped_column(String(3))


class TitreRef(Base):
    """Titre labels for the certification path, from titre.* events."""

    __tablename__ = "titre_refs"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    version_date: Mapped[date] = mapped_column(Date, primary_key=True)
    libelle: Mapped[str] = mapped_column(String(250))
    ccps: Mapped[list | None] = mapped_column(JSON)
