"""Token verification's edges (M4) and the issuer's key retention (L4): only EdDSA tokens are verified (any other
`alg` is a clean 401), unknown key ids refetch the JWKS at most once per interval whatever the number of threads,
and a rotated key stays published until the last token it signed has expired — by age, not by count."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ceres_shared.auth import ISSUER, KeySet, verify
from ceres_shared.errors import ApiError
from ceres_shared.keyring import KeyRing


def claims(**changes) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": "ceres", "sub": "admin-1", "role": "admin", "iat": now, "exp": now + 300,
            **changes}


def foreign_tokens(kid: str) -> dict[str, str]:
    """Tokens with the issuer's real kid but signed otherwise: the attacker's own RSA/EC key, a guessed HMAC
    secret, no signature at all."""
    return {
        "RS256": jwt.encode(claims(), rsa.generate_private_key(65537, 2048), algorithm="RS256", headers={"kid": kid}),
        "ES256": jwt.encode(claims(), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                            headers={"kid": kid}),
        "HS256": jwt.encode(claims(), "s" * 64, algorithm="HS256", headers={"kid": kid}),
        "none": jwt.encode(claims(), None, algorithm="none", headers={"kid": kid}),
    }


@pytest.fixture
def ring(tmp_path):
    return KeyRing(tmp_path / "keys")


def test_M4_tokens_signed_with_another_algorithm_are_refused_with_401(ring):
    keys = KeySet(jwks=ring.jwks())
    for alg, token in foreign_tokens(ring.current_kid).items():
        with pytest.raises(ApiError) as refused:
            verify(token, keys, "ceres")
        assert refused.value.status == 401 and refused.value.code == "invalid_token", alg
    assert verify(ring.issue("admin-1", "admin"), keys, "ceres").role == "admin"


class JwksServer:
    """A loopback JWKS endpoint counting its fetches."""

    def __init__(self, jwks: dict):
        self.jwks, self.fetches, self.status, self.lock = jwks, 0, 200, threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    server.fetches += 1
                body = json.dumps(server.jwks).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server(ring):
    server = JwksServer(ring.jwks())
    yield server
    server.close()


def test_M4_unknown_kids_refetch_the_jwks_at_most_once_per_interval_across_threads(ring, jwks_server):
    keys = KeySet(url=jwks_server.url)
    assert verify(ring.issue("u", "admin"), keys, "ceres").subject == "u"
    assert jwks_server.fetches == 1
    forged = KeyRing(ring.directory.parent / "forger")

    def attempt(i: int) -> int:
        token = jwt.encode(claims(), forged._load(forged.directory / f"{forged.current_kid}.pem"),
                           algorithm="EdDSA", headers={"kid": f"unknown-{i}"})
        try:
            verify(token, keys, "ceres")
        except ApiError as exc:
            return exc.status
        return 200

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(100)))
    assert statuses == [401] * 100
    assert jwks_server.fetches <= 2  # one refetch at most for the 100 unknown kids
    # A key the issuer rotated in is still found once the interval has passed.
    ring.rotate()
    jwks_server.jwks = ring.jwks()
    keys.min_refetch = 0.2
    time.sleep(0.3)
    assert verify(ring.issue("v", "admin"), keys, "ceres").subject == "v"


def test_M4_a_failing_issuer_is_asked_at_most_once_per_interval(ring, jwks_server):
    keys = KeySet(url=jwks_server.url)
    jwks_server.status = 500
    statuses = set()
    for _ in range(20):
        with pytest.raises(ApiError) as refused:
            verify(ring.issue("u", "admin"), keys, "ceres")
        statuses.add(refused.value.status)
    assert statuses == {503}  # the service cannot verify anything yet: unavailable, not "bad token"
    assert jwks_server.fetches == 1


def test_L4_three_quick_rotations_keep_the_key_of_still_valid_tokens(ring):
    token = ring.issue("admin-1", "admin", ttl=900)
    first = ring.current_kid
    for _ in range(4):
        ring.rotate()
    kids = [k["kid"] for k in ring.jwks()["keys"]]
    assert first in kids and len(kids) == 5 and kids[-1] == ring.current_kid
    assert verify(token, KeySet(jwks=ring.jwks()), "ceres").subject == "admin-1"


def test_L4_a_key_retired_for_longer_than_the_longest_token_is_dropped(tmp_path):
    ring = KeyRing(tmp_path / "short", max_ttl=1, margin=0)
    token = ring.issue("admin-1", "admin", ttl=1)
    first = ring.current_kid
    ring.rotate()
    assert first in [k["kid"] for k in ring.jwks()["keys"]]  # its token may still be valid
    assert verify(token, KeySet(jwks=ring.jwks()), "ceres").subject == "admin-1"
    time.sleep(1.2)
    assert [k["kid"] for k in ring.jwks()["keys"]] == [ring.current_kid]
    ring.rotate()  # the next rotation also deletes its private key
    assert not (ring.directory / f"{first}.pem").exists()
    with pytest.raises(ValueError):
        ring.issue("admin-1", "admin", ttl=2)  # a token outliving its key's publication is never signed
