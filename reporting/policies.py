"""Who may read which figures and which audit trail.

Tenant site: the Pemda's supervisor, admin and leadership viewer see their own
Pemda's KPIs; the incidents behind a number only for those who may see incidents
at all; a tenant schema's audit trail is its Pemda admin's. Public site: the
public schema's trail is the ministry's (national officers, and auditors, who may
read the whole national console); KPIs see national_* below."""

from __future__ import annotations

from typing import Any

from accounts.models import Role
from incidents import policies as incident_policies
from tenants.models import Region

KPI_ROLES = (Role.SUPERVISOR, Role.PEMDA_ADMIN, Role.VIEWER)


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


def can_view_kpis(user: Any) -> bool:
    return _role(user) in KPI_ROLES


def can_drill_down(user: Any) -> bool:
    return can_view_kpis(user) and incident_policies.can_view_incidents(user)


def can_view_national(user: Any) -> bool:
    return _role(user) == Role.NATIONAL_OFFICER


def can_view_province_kpis(user: Any, province: Region) -> bool:
    role = _role(user)
    if role == Role.NATIONAL_OFFICER:
        return True
    return role == Role.PROVINCIAL_OFFICER and getattr(user, "region_id", None) == province.code


def home_province(user: Any) -> str | None:
    if _role(user) == Role.PROVINCIAL_OFFICER:
        return getattr(user, "region_id", None)
    return None
