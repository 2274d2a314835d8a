from ceres_shared.runtime import Runtime
from ceres_shared.web import create_service_app

from .api import blp, communes_blp, ref_blp
from .bootstrap import bootstrap

TITLE = "CERES — Candidats"
DESCRIPTION = "Dossiers candidats, doublons, parcours de certification (règles C1 à C5)."


def create_app(runtime: Runtime | None = None):
    return create_service_app(runtime or bootstrap(), [blp, ref_blp, communes_blp], title=TITLE,
                              description=DESCRIPTION)
