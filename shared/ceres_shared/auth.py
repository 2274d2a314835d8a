"""Who is calling, and may they? Services verify the identity service's signed JWTs (JWKS) and check each
endpoint's permission on the server, with the caller's geographic or company scope (rule I4).
"""
from __future__ import annotations

import functools
import json
import logging
import threading
import time
from dataclasses import dataclass, field

import jwt
import requests
from flask import current_app, g, request

from .errors import ApiError, Forbidden

log = logging.getLogger(__name__)

ISSUER = "ceres-identity"
AGENT_ROLES = frozenset({"ud", "dreets", "deets", "dgefp", "admin"})
CENTRE_ROLES = frozenset({"centre", "gestionnaire"})
ALL_ROLES = AGENT_ROLES | CENTRE_ROLES | {"afpa", "service"}


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    name: str | None = None
    sirets: frozenset[str] = field(default_factory=frozenset)
    departements: frozenset[str] = field(default_factory=frozenset)
    regions: frozenset[str] = field(default_factory=frozenset)
    national: bool = False
    issued_at: int | None = None  # the token's iat and jti: refused after its account's log-out (L1)
    token_id: str | None = None

    @property
    def is_agent(self) -> bool:
        return self.role in AGENT_ROLES

    def covers_location(self, departement: str | None, region: str | None) -> bool:
        """Scope of an agent over a place (I4): national, their région, or their département."""
        if self.national:
            return True
        if region and region in self.regions:
            return True
        return bool(departement and departement in self.departements)

    def covers_siret(self, siret: str) -> bool:
        return self.national or siret in self.sirets

    @classmethod
    def from_claims(cls, claims: dict) -> "Principal":
        scope = claims.get("scope") or {}
        role = claims.get("role")
        if role not in ALL_ROLES:
            raise ApiError(401, "Jeton invalide : rôle inconnu.", code="invalid_token")
        return cls(
            subject=str(claims["sub"]),
            role=role,
            name=claims.get("name"),
            sirets=frozenset(scope.get("sirets") or ()),
            departements=frozenset(scope.get("departements") or ()),
            regions=frozenset(scope.get("regions") or ()),
            national=bool(scope.get("national")) or role in ("dgefp", "admin"),
            issued_at=claims.get("iat") if isinstance(claims.get("iat"), int) else None,
            token_id=str(claims["jti"]) if claims.get("jti") else None,
        )

    @property
    def label(self) -> str:
        return f"{self.role}:{self.subject}"


# The only algorithm identity signs with (keyring.py): a token claiming another one (none, HS*, RS*, ES*) is
# refused before any key is looked up — PyJWT would otherwise try an Ed25519 key as an RSA/EC one (TypeError).
ALGORITHMS = ("EdDSA",)
MAX_KID_LENGTH = 100


# M4: unknown kids refetch at most this often for all threads together; known keys are reread this often, in the
# background. The issuer publishes a key longer than both before signing with it (keyring.ACTIVATION_DELAY).
JWKS_MIN_REFETCH = 30.0
JWKS_REFRESH_INTERVAL = 300.0


class KeySet:
    """The issuer's public keys: fetched from JWKS_URL and cached, or given directly (tests, embedded). The cache is
    reread every `refresh_interval` seconds in the background — verifications go on with the keys held meanwhile,
    and a failed fetch keeps them (a slow or absent identity blocks nobody) — and at once for an unknown kid. Fetches
    are at most one per `min_refetch` seconds for all threads together: forged tokens with random kids do not make
    every request call identity. Identity signs with a new key only after every KeySet has reread the JWKS that
    publishes it (pre-publication, keyring.py), so a rotation needs neither a restart nor an unknown-kid fetch."""

    def __init__(self, url: str | None = None, jwks: dict | None = None,
                 refresh_interval: float = JWKS_REFRESH_INTERVAL, min_refetch: float = JWKS_MIN_REFETCH,
                 timeout: float = 3.0):
        self.url = url
        self.refresh_interval = refresh_interval
        self.min_refetch = min_refetch
        self.timeout = timeout
        self._lock = threading.Lock()
        self._fetch_done = threading.Condition(self._lock)
        self._fetching = False  # one fetch at a time, whoever started it
        self._keys: dict[str, object] = {}
        self._fetched = 0.0
        self._attempted = float("-inf")  # last fetch, successful or not
        self._failing = False
        if jwks is not None or url is None:
            self._load(jwks or {"keys": []})
            self._fetched = float("inf")  # nothing to reread

    def _load(self, jwks: dict) -> None:
        keys = {}
        for jwk in jwks.get("keys", []):
            keys[jwk["kid"]] = jwt.PyJWK.from_dict(jwk)
        self._keys = keys

    def _refresh(self) -> None:
        if not self.url:
            return
        response = requests.get(self.url, timeout=self.timeout)
        response.raise_for_status()
        self._load(response.json())
        self._fetched = time.monotonic()

    def _claim_fetch(self, known: bool) -> bool:
        """Whether the caller fetches now (lock held): for an unknown kid, or known keys read too long ago."""
        current = time.monotonic()
        if self._fetching or current - self._attempted < self.min_refetch:
            return False
        if known and current - self._fetched <= self.refresh_interval:
            return False
        self._attempted, self._fetching = current, True
        return True

    def _fetch(self) -> None:
        """Called without the lock by the one caller `_claim_fetch` chose."""
        failing = False
        try:
            self._refresh()
        except (requests.RequestException, ValueError, KeyError, jwt.PyJWTError) as exc:
            log.warning("JWKS fetch from %s failed: %s", self.url, exc)  # the keys held stay
            failing = True
        finally:
            with self._lock:
                self._failing, self._fetching = failing, False
                self._fetch_done.notify_all()

    def get(self, kid: str):
        with self._lock:
            key = self._keys.get(kid)
            fetch = self._claim_fetch(known=key is not None)
        if key is not None:
            if fetch:  # periodic reread: this verification does not wait for it
                threading.Thread(target=self._fetch, name="jwks-refresh", daemon=True).start()
            return key
        if fetch:
            self._fetch()
        with self._lock:  # a fetch another caller started answers this kid too
            self._fetch_done.wait_for(lambda: not self._fetching, timeout=self.timeout)
            key, failing = self._keys.get(kid), self._failing
        if key is None:
            if failing:
                raise ApiError(503, "Le service d'identité est injoignable.", code="jwks_unavailable")
            raise ApiError(401, "Jeton invalide : clé inconnue.", code="invalid_token")
        return key


def verify(token: str, keys: KeySet, audience: str) -> Principal:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise ApiError(401, "Jeton invalide.", code="invalid_token") from exc
    kid = header.get("kid") or ""  # PyJWT checked it is a string
    if header.get("alg") not in ALGORITHMS or not 0 < len(kid) <= MAX_KID_LENGTH:
        raise ApiError(401, "Jeton invalide.", code="invalid_token")
    key = keys.get(kid)
    try:
        claims = jwt.decode(
            token,
            key=key.key,
            algorithms=list(ALGORITHMS),
            audience=audience,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            leeway=10,
        )
    except jwt.ExpiredSignatureError as exc:
        raise ApiError(401, "Votre session a expiré, veuillez vous reconnecter.", code="token_expired") from exc
    except (jwt.PyJWTError, TypeError, ValueError) as exc:  # a key of another type too: a bad token, not a crash
        raise ApiError(401, "Jeton invalide.", code="invalid_token") from exc
    return Principal.from_claims(claims)


def current_principal() -> Principal | None:
    if "principal" in g:
        return g.principal
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        g.principal = None
        return None
    keys: KeySet = current_app.extensions["ceres_keys"]
    principal = verify(header.removeprefix("Bearer ").strip(), keys, current_app.config["JWT_AUDIENCE"])
    revocations = current_app.extensions.get("ceres_revocations")
    if revocations is not None and revocations.refused(principal):
        raise ApiError(401, "Votre session a pris fin, veuillez vous reconnecter.", code="token_revoked")  # L1
    g.principal = principal
    return g.principal


def check_permission(action: str) -> None:
    """401 without a valid token, 403 when the caller's role may not do `action`."""
    principal = current_principal()
    if principal is None:
        raise ApiError(401, "Veuillez vous connecter.", code="unauthenticated")
    policy: dict[str, frozenset[str]] = current_app.extensions["ceres_policy"]
    if action not in policy:
        raise RuntimeError(f"action {action!r} missing from the service's policy")
    if principal.role not in policy[action]:
        raise Forbidden()


def require(action: str):
    """Endpoint decorator: the caller must be authenticated and their role allowed `action` by the service's
    policy (one map per service, action -> roles). Scope checks on the record itself stay in the handler.
    create_service_app also checks it before the request's arguments are parsed (see web.py), so the decorator's
    place among flask-smorest's decorators does not matter: nobody learns how a body is validated before being
    told they may not send it."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            check_permission(action)
            return fn(*args, **kwargs)

        wrapper.ceres_action = action
        return wrapper

    return decorate


def jwks_from_env_json(raw: str | None) -> dict | None:
    return json.loads(raw) if raw else None
