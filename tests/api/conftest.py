"""Helpers for the integration API tests: tokens of every scope and a GraphQL
POST as an outside client would send it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone


def host_of(tenant: Any) -> str:
    return tenant.domains.get(is_primary=True).domain


def gql(client: Client, query: str, variables: dict | None = None, *, token: str | None = None,
        **headers: str):
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.post("/graphql/", data=json.dumps({"query": query, "variables": variables or {}}),
                       content_type="application/json", **extra)


def raw_token(*, scope: str, access: str = "read", schema_name: str = "", province_code: str = "",
              expires_in: timedelta = timedelta(days=30), revoked: bool = False) -> tuple[Any, str]:
    """A token row made directly (no audit row): for tests that commit their data."""
    import secrets

    from integration.models import ApiToken
    from integration.services import _hash

    prefix = secrets.token_hex(4)
    raw = f"s112_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        name=f"test {scope}", prefix=prefix, secret_hash=_hash(raw), scope=scope, access=access,
        schema_name=schema_name, province_code=province_code,
        expires_at=timezone.now() + expires_in,
        revoked_at=timezone.now() if revoked else None,
    )
    return token, raw


@pytest.fixture
def make_token(db) -> Iterator[Callable[..., tuple[Any, str]]]:
    made: list[Any] = []

    def make(**kwargs: Any) -> tuple[Any, str]:
        token, raw = raw_token(**kwargs)
        made.append(token)
        return token, raw

    yield make
    from integration.models import ApiToken

    ApiToken.objects.filter(pk__in=[t.pk for t in made]).delete()


@pytest.fixture
def host_client() -> Callable[[Any], Client]:
    """An outside client (no cookies, CSRF enforced as for a browser)."""

    def make(tenant: Any) -> Client:
        return Client(HTTP_HOST=host_of(tenant) if tenant is not None else "localhost",
                      enforce_csrf_checks=True)

    return make


@pytest.fixture
def tenant_user(db) -> Callable[[Any, str], Any]:
    """tenant_user(tenant, "operator1") -> that demo user in the tenant's schema."""
    from django_tenants.utils import schema_context

    from accounts.models import User

    def get(tenant: Any, username: str) -> Any:
        with schema_context(tenant.schema_name):
            return User.objects.get(username=username)

    return get


@pytest.fixture
def session_client() -> Callable[[Any, Any], Client]:
    """A console user's browser, signed in (CSRF not enforced, as Django's test client)."""
    from django_tenants.utils import schema_context

    def make(tenant: Any, user: Any) -> Client:
        client = Client(HTTP_HOST=host_of(tenant) if tenant is not None else "localhost")
        with schema_context(tenant.schema_name if tenant is not None else "public"):
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        return client

    return make
