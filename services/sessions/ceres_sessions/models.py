"""The sessions service's tables (its own database): the titres catalogue, sessions and their history, jurés,
results, and local copies of centres, sites, agréments and candidates fed by events."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from ceres_shared.db import BIGID, AwareDateTime, new_metadata

from .clock import PARIS
from ceres_shared.platform_tables import PlatformTables

metadata = new_metadata()
platform = PlatformTables(metadata)
_COUNTED = ["status", "dte_requested_at", "under_relaxation"]


class Base(DeclarativeBase):
    metadata = metadata


# --- catalogue ---------------------------------------------------------------------------------------------------
class Titre(Base):
    """One version of a titre (TP) or CCS: a new arrêté is a new version."""

    __tablename__ = "titres"
    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    version_date: Mapped[date] = mapped_column(Date, primary_key=True)
    libelle: Mapped[str] = mapped_column(String(250))
    kind: Mapped[str] = mapped_column(String(3))
    level: Mapped[int] = mapped_column(Integer)
    nsf_codes: Mapped[list] = mapped_column(JSON)
    rncp: Mapped[str | None] = mapped_column(String(20), nullable=True)
    jo_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    end_of_validity: Mapped[date | None] = mapped_column(Date, nullable=True)
    prolongation_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    ccps: Mapped[list] = mapped_column(JSON)
    ccs_of: Mapped[str | None] = mapped_column(String(12), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime())


# --- projections (from establishments and candidates) -------------------------------------------------------------
class Centre(Base):
    __tablename__ = "centres"
    centre_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    siret: Mapped[str | None] = mapped_column(String(14), nullable=True, index=True)
    raison_sociale: Mapped[str | None] = mapped_column(String(250), nullable=True)
    commune_code: Mapped[str | None] = mapped_column(String(5), nullable=True)
    type_centre: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Site(Base):
    __tablename__ = "sites"
    site_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    centre_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(250))
    commune_code: Mapped[str] = mapped_column(String(5))
    commune_label: Mapped[str | None] = mapped_column(String(120), nullable=True)
    departement: Mapped[str] = mapped_column(String(3), index=True)  # 0004: S10 agréments by territory
    region: Mapped[str] = mapped_column(String(3), index=True)
    zone: Mapped[str] = mapped_column(String(5))
    closed_at: Mapped[date | None] = mapped_column(Date, nullable=True)


class Agrement(Base):
    __tablename__ = "agrements"
    agrement_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(64), index=True)
    centre_id: Mapped[str] = mapped_column(String(64))
    titre_code: Mapped[str] = mapped_column(String(12))
    titre_version: Mapped[date] = mapped_column(Date)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20))

    __table_args__ = (Index("ix_agrements_status_until", "status", "valid_until",  # 0004: S10 agréments to follow
                            postgresql_include=["site_id", "titre_code"]),)


class Candidate(Base):
    __tablename__ = "candidates"
    candidate_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    nom: Mapped[str] = mapped_column(String(120))
    prenoms: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    merged_into: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class CandidateGrant(Base):
    """I4/C1, from candidates' `candidate.shared`: a centre (SIRET) may enrol this person — it created the record,
    or its duplicate check gave the person's exact identity."""
    __tablename__ = "candidate_grants"
    candidate_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    siret: Mapped[str] = mapped_column(String(14), primary_key=True)


# --- sessions ----------------------------------------------------------------------------------------------------
class ExamSession(Base):
    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(5))  # TITRE, CCP, CCS
    titre_code: Mapped[str] = mapped_column(String(12))
    titre_version: Mapped[date] = mapped_column(Date)
    ccp_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    site_id: Mapped[str] = mapped_column(String(64))
    centre_id: Mapped[str] = mapped_column(String(64))
    # Copied from the site so that scope filters and the dashboard need no join (S10 at national scale).
    # active_history: the dashboard's counts (service_layer/counts.py) need the old value of what they count by.
    departement: Mapped[str] = mapped_column(String(3), active_history=True)
    region: Mapped[str] = mapped_column(String(3), active_history=True)
    site_commune_code: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(30), active_history=True)
    starts_at: Mapped[datetime] = mapped_column(AwareDateTime(), active_history=True)
    ends_at: Mapped[datetime] = mapped_column(AwareDateTime())
    convocation_at: Mapped[datetime] = mapped_column(AwareDateTime())
    real_end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    dte_requested_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True,
                                                              active_history=True)
    dte_candidate_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    under_relaxation: Mapped[bool] = mapped_column(Boolean, default=False, active_history=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(120))
    validated_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    validated_by: Mapped[str | None] = mapped_column(String(120), nullable=True)

    __table_args__ = (
        # 0003: the dashboard's counted columns are INCLUDEd on PostgreSQL (index-only scans, S10).
        Index("ix_sessions_departement_starts", "departement", "starts_at", postgresql_include=_COUNTED),
        Index("ix_sessions_region_starts", "region", "starts_at", postgresql_include=_COUNTED),
        Index("ix_sessions_starts", "starts_at", postgresql_include=_COUNTED),
        Index("ix_sessions_centre", "centre_id"),
        # 0004: S10 agréments to follow (withdrawn ones with sessions planned), B2 results overdue.
        Index("ix_sessions_site_titre", "site_id", "titre_code"),
        Index("ix_sessions_status_ends", "status", "ends_at",
              postgresql_include=["site_id", "titre_code", "departement", "region"]),
    )

    @validates("starts_at", "ends_at", "convocation_at")
    def _in_paris(self, _key, moment):
        """Aware moments are kept in Paris time: SQLite stores the wall clock, which then reads back the same."""
        return moment.astimezone(PARIS) if moment is not None and moment.tzinfo is not None else moment


class SessionCount(Base):
    """S10: sessions per Paris month of their start, département, région and status, with how many had their DTE
    requested and how many were handled under a relaxation; kept by service_layer/counts.py (migration 0004)."""

    __tablename__ = "session_counts"
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    departement: Mapped[str] = mapped_column(String(3), primary_key=True)
    region: Mapped[str] = mapped_column(String(3), primary_key=True)
    status: Mapped[str] = mapped_column(String(30), primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    dte_requests: Mapped[int] = mapped_column(Integer, default=0)
    relaxed: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_session_counts_departement_month", "departement", "month"),
                      Index("ix_session_counts_region_month", "region", "month"))


class Transition(Base):
    """Every step of a session: who, when, from, to, why (append-only, S3)."""

    __tablename__ = "session_transitions"
    id: Mapped[int] = mapped_column(BIGID, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_status: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(120))
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(AwareDateTime())
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    relaxation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Enrolment(Base):
    __tablename__ = "enrolments"
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    candidate_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False, index=True)
    state: Mapped[str] = mapped_column(String(10))  # inscrit, retire, absent
    decision: Mapped[str | None] = mapped_column(String(10), nullable=True)
    ccps_obtained: Mapped[list] = mapped_column(JSON, default=list)
    enrolled_at: Mapped[datetime] = mapped_column(AwareDateTime())


class Relaxation(Base):
    """A period during which the S4 deadlines are not enforced (opened by an administrator)."""

    __tablename__ = "relaxations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    # 0005: an administrator may close a period early (or withdraw one not yet started); it then no longer applies.
    closed_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    closure_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Control(Base):
    """A control of a session by the State's services (S10 « suivi des contrôles », migration 0005): on site during
    the exam or on the documents afterwards. Agents only: a centre never sees a control planned on its session."""

    __tablename__ = "session_controls"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    # Copied from the session, as for sessions: scope filters and the dashboard need no join.
    departement: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(12))  # sur_place, sur_pieces
    planned_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12))  # programme, realise, annule
    outcome: Mapped[str | None] = mapped_column(String(14), nullable=True)  # conforme, observations, non_conforme
    observations: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    done_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    done_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_session_controls_departement_planned", "departement", "planned_on"),
                      Index("ix_session_controls_region_planned", "region", "planned_on"),
                      Index("ix_session_controls_status_planned", "status", "planned_on"))


class Counter(Base):
    """Sequences kept in the database (public session numbers), portable to SQLite."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


# --- jurés (S7) --------------------------------------------------------------------------------------------------
class Jure(Base):
    __tablename__ = "jures"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    civilite: Mapped[str] = mapped_column(String(4))
    nom: Mapped[str] = mapped_column(String(120))
    prenom: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(250), nullable=True)
    departement: Mapped[str] = mapped_column(String(3), index=True)
    region: Mapped[str] = mapped_column(String(3))
    competences: Mapped[list] = mapped_column(JSON, default=list)
    commentaires: Mapped[str | None] = mapped_column(Text, nullable=True)


class Habilitation(Base):
    __tablename__ = "habilitations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    jure_id: Mapped[str] = mapped_column(ForeignKey("jures.id"), index=True)
    titre_code: Mapped[str] = mapped_column(String(12), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)


class ConflictOfInterest(Base):
    """A juré who trained or worked with a candidate may not sit on that candidate's jury (S7)."""

    __tablename__ = "jure_conflicts"
    jure_id: Mapped[str] = mapped_column(ForeignKey("jures.id"), primary_key=True)
    candidate_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    nature: Mapped[str] = mapped_column(String(200))


class JuryMember(Base):
    __tablename__ = "session_jury"
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    jure_id: Mapped[str] = mapped_column(ForeignKey("jures.id"), primary_key=True)


# --- mass operations (S9) and warnings (B2) ----------------------------------------------------------------------
class MassOperation(Base):
    __tablename__ = "mass_operations"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    action: Mapped[str] = mapped_column(String(20))  # annuler, deplacer_fin
    criteria: Mapped[dict] = mapped_column(JSON)
    new_end_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), index=True)  # en_attente, en_cours, terminee
    session_ids: Mapped[list] = mapped_column(JSON)
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(120))
    created_role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)


class Warning(Base):
    """A deadline about to be missed (B2), raised once per subject, deadline and due date."""

    __tablename__ = "deadline_warnings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))  # dte, convocations, results, habilitation, prolongation
    subject_id: Mapped[str] = mapped_column(String(64))
    session_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    departement: Mapped[str | None] = mapped_column(String(3), nullable=True)
    region: Mapped[str | None] = mapped_column(String(3), nullable=True)
    due_date: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(AwareDateTime())

    __table_args__ = (Index("uq_deadline_warning", "kind", "subject_id", "due_date", unique=True),
                      # 0004: the dashboard's warnings, due from a week ago on / results overdue
                      Index("ix_deadline_warnings_due", "due_date"),
                      Index("ix_deadline_warnings_kind_due", "kind", "due_date"))
