"""`Authorization: Bearer s112_<prefix>_<secret>` on /graphql/ (listed in
settings.GRAPHQL_AUTHENTICATORS). The token becomes a `TokenUser`: no database
row, a role the existing policies understand, and the token for scope checks.

- tenant token: its own Pemda's host only, where it reads like the leadership
  viewer (every incident, caller numbers masked); writes need read-write access
  and are checked by the mutations.
- province token: the national host only, where it reads like that province's
  officer (onboarding) plus its province's incident feed.
- national token: the national host only, reading like the auditor, plus every
  province's incident feed.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import Role
from integration.models import ApiToken
from integration.services import TokenRejected, api_token_authenticate
from tenants.db import current_schema


class TokenUser:
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, token: ApiToken, role: str, region_id: str | None) -> None:
        self.api_token = token
        self.role = role
        self.region_id = region_id
        self.username = f"api:{token.prefix}"
        self.display_name = f"API {token.name}"

    def __str__(self) -> str:
        return self.display_name

    def get_username(self) -> str:
        return self.username

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def has_perm(self, *args: Any, **kwargs: Any) -> bool:
        return False


def bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise TokenRejected("send the token as 'Authorization: Bearer <token>'")
    return value.strip()


def authenticate(request: HttpRequest) -> TokenUser | None:
    """None without an Authorization header; TokenRejected (401) for a token that
    is unknown, revoked, expired or presented on a host outside its scope."""
    raw = bearer(request)
    if raw is None:
        return None
    token = api_token_authenticate(raw)
    schema = current_schema()
    if token.scope == ApiToken.Scope.TENANT:
        if schema != token.schema_name:
            raise TokenRejected("this API token belongs to another Pemda's host")
        return TokenUser(token, Role.VIEWER, None)
    if schema != "public":
        raise TokenRejected(
            "a province or national API token is used on the national host's /graphql/"
        )
    if token.scope == ApiToken.Scope.PROVINCE:
        return TokenUser(token, Role.PROVINCIAL_OFFICER, token.province_code)
    return TokenUser(token, Role.AUDITOR, None)


def token_of(user: Any) -> ApiToken | None:
    return getattr(user, "api_token", None)
