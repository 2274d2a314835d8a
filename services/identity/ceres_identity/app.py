"""CERES — Identité: Comptes, codes d'activation, invitations, jetons (règles I1 à I4)."""
import time

from ceres_shared.auth import KeySet
from ceres_shared.keyring import KeyRing
from ceres_shared.revocation import Revocations
from ceres_shared.runtime import Runtime
from ceres_shared.web import create_service_app

from . import keys_api
from .api import accounts_api, admin_api, auth_api, centres_api, internal_api, invitations_api
from .bootstrap import bootstrap

TITLE = "CERES — Identité"
DESCRIPTION = "Comptes, codes d'activation, invitations, jetons (règles I1 à I4)."


class LiveKeySet(KeySet):
    """Identity verifies its own tokens with its key ring as it is now (a rotated key is known at once), plus
    any keys the runtime was given explicitly (the test issuer's). Reading the ring is local: it may be reread
    every second for an unknown kid (another replica's rotation shows up at once)."""

    def __init__(self, ring: KeyRing, given: dict | None = None):
        self.ring, self.given = ring, given or {"keys": []}
        super().__init__(jwks=self._current(), min_refetch=1.0)
        self._fetched = time.monotonic()

    def _current(self) -> dict:
        keys = {k["kid"]: k for k in [*self.given["keys"], *self.ring.jwks()["keys"]]}
        return {"keys": list(keys.values())}

    def _refresh(self) -> None:
        self._load(self._current())
        self._fetched = time.monotonic()


def create_app(runtime: Runtime | None = None):
    runtime = runtime or bootstrap()
    ring = runtime.identity.keyring
    given = runtime.jwks
    if runtime.jwks is None and runtime.settings.jwks_url is None:
        runtime.jwks = ring.jwks()
    blueprints = [keys_api.blp, auth_api.blp, accounts_api.blp, invitations_api.blp, centres_api.blp,
                  admin_api.blp, internal_api.blp]
    if runtime.settings.embedded:
        blueprints.append(keys_api.dev_blp)
    app = create_service_app(runtime, blueprints, title=TITLE, description=DESCRIPTION)
    app.extensions["ceres_keys"] = LiveKeySet(ring, given)
    app.extensions["ceres_revocations"] = Revocations(lambda: _revocation_list(runtime), interval=1.0)  # L1
    app.config["CERES_IDEMPOTENCY"] = False  # its answers hold tokens, secrets, codes: never kept (idempotency.py)
    return app


def _revocation_list(runtime: Runtime) -> dict:
    """Identity reads its own list from its database (the others ask GET /internal/revocations)."""
    from .service_layer import revocations

    with runtime.session_factory() as session:
        return revocations.listed(session, runtime.identity.config.access_ttl)
