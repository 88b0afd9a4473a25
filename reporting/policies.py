"""Who reads which audit trail. A tenant schema's trail is its Pemda admin's;
the public schema's trail is the ministry's (national officers, and auditors,
who may read the whole national console)."""

from __future__ import annotations

from typing import Any

from accounts.models import Role


def _role(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    if not getattr(user, "is_active", False):
        return ""
    return str(getattr(user, "role", "") or "")


def can_read_tenant_trail(user: Any) -> bool:
    return _role(user) == Role.PEMDA_ADMIN


def can_read_national_trail(user: Any) -> bool:
    return _role(user) in {Role.NATIONAL_OFFICER, Role.AUDITOR}
