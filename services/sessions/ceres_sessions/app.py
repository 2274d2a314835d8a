from ceres_shared.runtime import Runtime
from ceres_shared.web import create_service_app

from .api import admin, controls, jures, sessions, titres
from .bootstrap import bootstrap

TITLE = "CERES — Sessions"
DESCRIPTION = "Catalogue des titres, sessions d'examen, jurys, résultats (règles S1 à S10)."


def create_app(runtime: Runtime | None = None):
    return create_service_app(runtime or bootstrap(), (titres.blp, sessions.blp, jures.blp, admin.blp, controls.blp),
                              title=TITLE, description=DESCRIPTION)
