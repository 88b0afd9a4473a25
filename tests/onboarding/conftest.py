"""Fixtures for onboarding tests: the demo's public users and a small PDF."""

from __future__ import annotations

import pytest

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@pytest.fixture
def demo_user(db):
    from accounts.models import User

    def get(username: str) -> User:
        return User.objects.get(username=username)

    return get


@pytest.fixture
def as_user(client_for, demo_user):
    """A logged-in Client on the national host for a demo account name."""

    def make(username: str | None):
        if username is None:
            return client_for(None)
        return client_for(None, demo_user(username))

    return make


@pytest.fixture
def pdf_bytes() -> bytes:
    return PDF
