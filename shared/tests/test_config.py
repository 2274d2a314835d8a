"""M6: one check of CERES_SECRET_KEY for the five services and the gateway — production refuses to start without a
strong key that is no known default or placeholder; embedded mode makes a random one per var/."""
from __future__ import annotations

import pytest

from ceres_shared.config import ConfigError, load_settings, weak_secret_reason

STRONG = "k8J2m-Qw0rZ7pL4nX9vB3cT6yH1sD5fG"
WEAK = ["dev-only-secret", "CHANGE_ME", "changeme", "Change_Me", "secret", "dev-only-insecure-secret-key", "short",
        "a" * 40, "CHANGE_ME-CHANGE_ME-CHANGE_ME-CHANGE_ME", "   "]


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("CERES_TESTING", "0")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://ceres@db/ceres_sessions")
    monkeypatch.setenv("AMQP_URL", "amqp://ceres:pw@broker/ceres")
    monkeypatch.setenv("JWKS_URL", "http://identity/.well-known/jwks.json")


@pytest.mark.parametrize("service", ["establishments", "sessions", "candidates", "printing", "identity"])
@pytest.mark.parametrize("weak", WEAK)
def test_production_refuses_a_weak_or_placeholder_secret(production, monkeypatch, service, weak):
    monkeypatch.setenv("CERES_SECRET_KEY", weak)
    with pytest.raises(ConfigError, match="CERES_SECRET_KEY"):
        load_settings(service)


def test_production_refuses_no_secret_and_takes_a_strong_one(production, monkeypatch):
    monkeypatch.delenv("CERES_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="CERES_SECRET_KEY is required"):
        load_settings("sessions")
    monkeypatch.setenv("CERES_SECRET_KEY", STRONG)
    assert load_settings("sessions").secret_key == STRONG


def test_the_reasons_say_what_is_wrong():
    assert weak_secret_reason(STRONG) is None
    assert "placeholder" in weak_secret_reason("CHANGE_ME")
    assert "32" in weak_secret_reason("abc")
    assert "single character" in weak_secret_reason("z" * 50)


def test_embedded_mode_makes_one_random_secret_per_var_dir(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "AMQP_URL", "CERES_SECRET_KEY", "SESSIONS_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CERES_TESTING", "0")
    monkeypatch.setenv("CERES_VAR_DIR", str(tmp_path))
    first = load_settings("sessions")
    assert first.embedded and len(first.secret_key) >= 32 and weak_secret_reason(first.secret_key) is None
    assert load_settings("identity").secret_key == first.secret_key
    monkeypatch.setenv("CERES_VAR_DIR", str(tmp_path / "other"))
    assert load_settings("identity").secret_key != first.secret_key
