from ceres_shared.runtime import Runtime
from ceres_shared.web import create_service_app

from . import keys_api
from .bootstrap import bootstrap

TITLE = "CERES — Identité"
DESCRIPTION = "Comptes, codes d'activation, invitations, jetons (règles I1 à I4)."


def create_app(runtime: Runtime | None = None):
    runtime = runtime or bootstrap()
    if runtime.jwks is None and runtime.settings.jwks_url is None:
        # Identity verifies its own tokens with its own public keys.
        runtime.jwks = keys_api.load_keyring().jwks()
    blueprints = [keys_api.blp]
    if runtime.settings.embedded:
        blueprints.append(keys_api.dev_blp)
    app = create_service_app(runtime, blueprints, title=TITLE, description=DESCRIPTION)
    return app
