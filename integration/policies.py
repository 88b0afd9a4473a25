"""Who may create and revoke which API tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Role
from integration.models import ApiToken


def _ok(user: Any, *roles: str) -> bool:
    return bool(user is not None and user.is_authenticated and user.has_role(*roles)
                and getattr(user, "api_token", None) is None)


def can_manage_tenant_tokens(user: Any) -> bool:
    """A Pemda admin, on their own host (their account exists only there)."""
    return _ok(user, Role.PEMDA_ADMIN)


def can_manage_national_tokens(user: Any) -> bool:
    """Province and national tokens: the Kominfo national officer."""
    return _ok(user, Role.NATIONAL_OFFICER)


def tenant_tokens(schema_name: str) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(scope=ApiToken.Scope.TENANT, schema_name=schema_name)


def national_tokens() -> QuerySet[ApiToken]:
    return ApiToken.objects.exclude(scope=ApiToken.Scope.TENANT)
