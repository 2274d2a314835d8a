from ceres_shared.runtime import Runtime
from ceres_shared.web import create_service_app

from .api import blp
from .bootstrap import bootstrap

TITLE = "CERES — Établissements"
DESCRIPTION = "Centres agréés, sites, agréments, recherche (règles E1 à E7)."


def create_app(runtime: Runtime | None = None):
    return create_service_app(runtime or bootstrap(), [blp], title=TITLE, description=DESCRIPTION)
