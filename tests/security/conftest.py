"""Fixtures of the adversarial suite."""
import pytest

from .hostile import Forger


@pytest.fixture
def victim(app, auth):
    """A signed-in user whose real token the forger starts from."""
    return Forger(app, auth.login("victim"))
