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


def signed_with(ring: KeyRing, kid: str, header_kid: str | None = None) -> str:
    """A token signed with one key of the ring, whichever signs now (`header_kid`: another kid claimed)."""
    return jwt.encode(claims(), ring._load(ring.directory / f"{kid}.pem"), algorithm="EdDSA",
                      headers={"kid": header_kid or kid})


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

    def __init__(self, jwks):
        """`jwks`: the key set, or a function giving it at each fetch (the issuer's ring as it is then)."""
        self.jwks, self.fetches, self.status, self.delay, self.lock = jwks, 0, 200, 0.0, threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    server.fetches += 1
                time.sleep(server.delay)
                body = json.dumps(server.jwks() if callable(server.jwks) else server.jwks).encode()
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
        try:
            verify(signed_with(forged, forged.current_kid, f"unknown-{i}"), keys, "ceres")
        except ApiError as exc:
            return exc.status
        return 200

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(100)))
    assert statuses == [401] * 100
    assert jwks_server.fetches <= 2  # one refetch at most for the 100 unknown kids
    # A key the issuer rotated in is still found once the interval has passed.
    new = ring.rotate()
    jwks_server.jwks = ring.jwks()
    keys.min_refetch = 0.2
    time.sleep(0.3)
    assert verify(signed_with(ring, new), keys, "ceres").subject == "admin-1"


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


def test_L4_three_quick_rotations_keep_the_key_of_still_valid_tokens(tmp_path):
    ring = KeyRing(tmp_path / "keys", activation_delay=0)  # each new key signs at once
    token = ring.issue("admin-1", "admin", ttl=900)
    first = ring.current_kid
    for _ in range(4):
        ring.rotate()
    kids = [k["kid"] for k in ring.jwks()["keys"]]
    assert first in kids and len(kids) == 5 and kids[-1] == ring.current_kid
    assert verify(token, KeySet(jwks=ring.jwks()), "ceres").subject == "admin-1"


def test_L4_a_key_retired_for_longer_than_the_longest_token_is_dropped(tmp_path):
    ring = KeyRing(tmp_path / "short", max_ttl=1, margin=0, activation_delay=0)
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


def test_L4_a_pre_published_key_retires_its_predecessor_when_it_starts_signing(tmp_path):
    ring = KeyRing(tmp_path / "prepublished", max_ttl=1, margin=0, activation_delay=0.5)
    first, rotated = ring.current_kid, time.time()
    second = ring.rotate()
    assert ring.current_kid == first  # published, not signing yet
    time.sleep(max(0.0, rotated + 0.6 - time.time()))
    token = ring.issue("admin-1", "admin", ttl=1)
    assert jwt.get_unverified_header(token)["kid"] == second
    time.sleep(max(0.0, rotated + 1.25 - time.time()))
    # 1 s after the rotation, tokens the first key signed up to the activation may still be valid: it stays.
    assert [k["kid"] for k in ring.jwks()["keys"]] == [first, second]
    time.sleep(max(0.0, rotated + 1.7 - time.time()))
    assert [k["kid"] for k in ring.jwks()["keys"]] == [second]


def test_rotation_right_after_an_attackers_unknown_kid_refetch_refuses_no_token_of_the_issuer(ring, jwks_server):
    """Pre-publication: the rotated-in key is published at once, but the issuer goes on signing with the old one
    until every service has reread the JWKS, so a service whose refetch limit an attacker just used still verifies
    every token the issuer hands out."""
    jwks_server.jwks = ring.jwks  # the issuer's JWKS as it is at each fetch
    keys = KeySet(url=jwks_server.url)
    old = ring.current_kid
    forged = KeyRing(ring.directory.parent / "forger")
    with pytest.raises(ApiError) as refused:
        verify(signed_with(forged, forged.current_kid, "garbage"), keys, "ceres")
    assert refused.value.status == 401 and jwks_server.fetches == 1  # no other unknown-kid fetch for 30 s
    new = ring.rotate()
    assert verify(ring.issue("admin-1", "admin"), keys, "ceres").subject == "admin-1"
    assert ring.current_kid == old and [k["kid"] for k in ring.jwks()["keys"]] == [old, new]
    assert jwks_server.fetches == 1


def test_a_rotated_in_key_is_known_to_the_services_before_it_signs_while_an_attacker_keeps_refetching(tmp_path):
    """The same with the periods shortened: the issuer activates its new key only after the services' refresh
    horizon (periodic reread + refetch limit + leeway); every token from the issuer is verified throughout."""
    keys_kwargs = {"refresh_interval": 0.3, "min_refetch": 0.3}
    ring = KeyRing(tmp_path / "keys", activation_delay=0.3 + 0.3 + 0.3)
    server = JwksServer(ring.jwks)
    keys = KeySet(url=server.url, **keys_kwargs)
    forged = KeyRing(tmp_path / "forger")
    stop, refusals = threading.Event(), []

    def attacker():
        while not stop.is_set():
            try:
                verify(signed_with(forged, forged.current_kid, f"garbage-{time.monotonic_ns()}"), keys, "ceres")
            except ApiError as exc:
                refusals.append(exc.status)
            else:
                refusals.append(200)
            time.sleep(0.01)

    attack = threading.Thread(target=attacker)
    attack.start()
    try:
        old = ring.current_kid
        time.sleep(0.05)
        new, rotated = ring.rotate(), time.monotonic()
        signers = []
        while time.monotonic() - rotated < 1.5:
            token = ring.issue("admin-1", "admin")
            assert verify(token, keys, "ceres").subject == "admin-1"  # raises 401 for a key not known yet
            signers.append(jwt.get_unverified_header(token)["kid"])
            time.sleep(0.02)
    finally:
        stop.set()
        attack.join()
        server.close()
    assert signers[0] == old and signers[-1] == new and signers == sorted(signers)
    assert len(refusals) > 50 and set(refusals) == {401}
    assert server.fetches <= 1 + 1.6 / 0.3 + 1  # the attacker's kids still refetch at most once per 0.3 s


def test_the_jwks_is_reread_periodically_in_the_background_and_a_failing_reread_keeps_the_keys(ring, jwks_server):
    jwks_server.jwks = ring.jwks
    keys = KeySet(url=jwks_server.url, refresh_interval=0.2, min_refetch=0.1)
    old_token = ring.issue("admin-1", "admin")
    assert verify(old_token, keys, "ceres").subject == "admin-1" and jwks_server.fetches == 1
    new = ring.rotate()
    time.sleep(0.3)
    jwks_server.delay = 1.5  # a slow identity
    started = time.monotonic()
    assert verify(old_token, keys, "ceres").subject == "admin-1"
    assert time.monotonic() - started < 0.5  # the reread runs beside the verification, which does not wait for it
    # A token of the new key meanwhile waits for that reread rather than fetching again.
    assert verify(signed_with(ring, new), keys, "ceres").subject == "admin-1" and jwks_server.fetches == 2
    jwks_server.status, jwks_server.delay = 500, 0.0  # identity answers errors now
    time.sleep(0.3)
    for _ in range(3):
        assert verify(old_token, keys, "ceres").subject == "admin-1"
        assert verify(signed_with(ring, new), keys, "ceres").subject == "admin-1"
        time.sleep(0.15)
    assert jwks_server.fetches >= 3  # rereads were tried and failed: the keys held stayed
