"""The sessions service's tables (its own database)."""
from sqlalchemy.orm import DeclarativeBase

from ceres_shared.db import new_metadata
from ceres_shared.platform_tables import PlatformTables

metadata = new_metadata()
platform = PlatformTables(metadata)


class Base(DeclarativeBase):
    metadata = metadata
