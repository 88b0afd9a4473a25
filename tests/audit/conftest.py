from __future__ import annotations

import pytest

from tests.onboarding.conftest import PDF


@pytest.fixture
def pdf_bytes() -> bytes:
    return PDF


@pytest.fixture
def as_user_public(client_for):
    """A logged-in Client on the national host for a demo public account."""
    from accounts.models import User

    def make(username: str):
        return client_for(None, User.objects.get(username=username))

    return make


@pytest.fixture
def demo_user(db):
    from accounts.models import User

    return lambda username: User.objects.get(username=username)
