"""Unit tests need no communes referential: the package's session fixture (an npm download when var/communes is
not built yet) is replaced by nothing here."""
import pytest


@pytest.fixture(scope="session", autouse=True)
def communes_referential():
    yield
