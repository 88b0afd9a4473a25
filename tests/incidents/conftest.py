"""Fixtures for 112 operations tests: demo users of Dairi/Sidoarjo and PBX helpers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from incidents.demo import demo_pbx_key


def in_schema(tenant: Any, fn: Callable[[], Any]) -> Any:
    with schema_context(tenant.schema_name):
        return fn()


@pytest.fixture
def tenant_user(db) -> Callable[[Any, str], Any]:
    """tenant_user(tenant, "operator1") -> that demo user in the tenant's schema."""
    from accounts.models import User

    def get(tenant: Any, username: str) -> Any:
        with schema_context(tenant.schema_name):
            return User.objects.get(username=username)

    return get


@pytest.fixture
def as_user(client_for, tenant_user) -> Callable[[Any, str], Client]:
    def make(tenant: Any, username: str) -> Client:
        return client_for(tenant, tenant_user(tenant, username))

    return make


def pbx_post(client: Client, path: str, body: Any, key: str | None = None, **extra: Any):
    """POST as a PBX; the key defaults to Dairi's demo key (tenant_a)."""
    key = demo_pbx_key("dairi") if key is None else key
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        path, data=data, content_type=extra.pop("content_type", "application/json"),
        HTTP_AUTHORIZATION=f"Bearer {key}", **extra,
    )


def post_json(client: Client, path: str, body: dict[str, Any]):
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       HTTP_ACCEPT="application/json")
