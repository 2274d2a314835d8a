"""The establishments service's tables (its own database): centres, sites, agréments and their decisions, and the
local copy of the titres catalogue (from the sessions service's `titre.*` events)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ceres_shared.db import new_metadata
from ceres_shared.platform_tables import PlatformTables

metadata = new_metadata()
platform = PlatformTables(metadata)

CENTRE_DE_REPRISE_SIRET = "00000000000000"
CENTRE_DE_REPRISE_ID = "16f44645-0254-518a-82ff-d9efbf7c084e"


class Base(DeclarativeBase):
    metadata = metadata


class Centre(Base):
    __tablename__ = "centres"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    siren: Mapped[str] = mapped_column(String(9), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(250))
    adresse: Mapped[str] = mapped_column(String(300))
    code_postal: Mapped[str | None] = mapped_column(String(5))
    commune_code: Mapped[str | None] = mapped_column(String(5))
    commune_label: Mapped[str | None] = mapped_column(String(120))
    departement: Mapped[str | None] = mapped_column(String(3), index=True)
    region: Mapped[str | None] = mapped_column(String(3), index=True)
    type_centre: Mapped[str | None] = mapped_column(String(30))
    reseau: Mapped[str | None] = mapped_column(String(120))
    representant: Mapped[str | None] = mapped_column(String(200))
    commentaires: Mapped[str | None] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    sites: Mapped[list["Site"]] = relationship(back_populates="centre", order_by="Site.name")
    __mapper_args__ = {"version_id_col": version}


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"), index=True)
    name: Mapped[str] = mapped_column(String(250))
    adresse: Mapped[str] = mapped_column(String(300))
    code_postal: Mapped[str | None] = mapped_column(String(5))
    commune_code: Mapped[str] = mapped_column(String(5))
    commune_label: Mapped[str | None] = mapped_column(String(120))
    departement: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(3))
    zone: Mapped[str] = mapped_column(String(5))
    representant: Mapped[str | None] = mapped_column(String(200))
    siret: Mapped[str | None] = mapped_column(String(14), index=True)
    closed_at: Mapped[date | None] = mapped_column(Date)
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    centre: Mapped[Centre] = relationship(back_populates="sites")
    agrements: Mapped[list["Agrement"]] = relationship(back_populates="site", order_by="Agrement.titre_code")
    __mapper_args__ = {"version_id_col": version}
    # a territory's sites and their centres from the index alone (scope of agents, I4; migration 0004)
    __table_args__ = (Index("ix_sites_departement_centre", "departement", "centre_id"),
                      Index("ix_sites_region_centre", "region", "centre_id"))


class Titre(Base):
    """Local copy of the catalogue (sessions service's `titre.published` / `titre.updated`)."""

    __tablename__ = "titres"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    version_date: Mapped[date] = mapped_column(Date, primary_key=True)
    libelle: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(3))
    end_of_validity: Mapped[date | None] = mapped_column(Date)
    ccs_of: Mapped[str | None] = mapped_column(String(12))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Agrement(Base):
    __tablename__ = "agrements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"), index=True)
    titre_code: Mapped[str] = mapped_column(String(12), index=True)
    titre_version: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    site: Mapped[Site] = relationship(back_populates="agrements")
    decisions: Mapped[list["AgrementDecision"]] = relationship(order_by="AgrementDecision.id")
    __mapper_args__ = {"version_id_col": version}
    # E7: a status's queue (« en cours d'instruction ») joined to the territory's sites (migration 0005)
    __table_args__ = (Index("ix_agrements_status_site", "status", "site_id"),)


class AgrementDecision(Base):
    """Append-only history of an agrément (E7): every request and decision, who and when."""

    __tablename__ = "agrement_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agrement_id: Mapped[str] = mapped_column(ForeignKey("agrements.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
