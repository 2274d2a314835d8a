"""CERES — Impression: Parchemins, demandes d'impression, lots Afpa (règles P1 à P10)."""
from ceres_shared.runtime import Runtime
from ceres_shared.web import create_service_app

from .api import BLUEPRINTS
from .bootstrap import bootstrap

TITLE = "CERES — Impression"
DESCRIPTION = "Parchemins, demandes d'impression, lots Afpa (règles P1 à P10)."


def create_app(runtime: Runtime | None = None):
    return create_service_app(runtime or bootstrap(), BLUEPRINTS, title=TITLE, description=DESCRIPTION)
