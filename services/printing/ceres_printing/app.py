"""CERES — Impression: Parchemins, demandes d'impression, lots Afpa (règles P1 à P10)."""
from ceres_shared.runtime import Runtime
from ceres_shared.web import create_service_app

from .api import BLUEPRINTS
from .bootstrap import bootstrap
from .pnd_api import blp as pnd_blp

TITLE = "CERES — Impression"
DESCRIPTION = "Parchemins, demandes d'impression, lots Afpa (règles P1 à P10)."


def create_app(runtime: Runtime | None = None):
    return create_service_app(runtime or bootstrap(), (*BLUEPRINTS, pnd_blp), title=TITLE, description=DESCRIPTION)
