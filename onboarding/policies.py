"""Who may do what on onboarding: the one place. Views, GraphQL and (later) API
tokens all ask these functions. A principal is anything with `role`, `region_id`
and `is_active` (a User, or later an API token scoped to a province)."""

from __future__ import annotations

from typing import Protocol

from accounts.models import Role
from tenants.models import Region


class Principal(Protocol):
    role: str
    region_id: str | None
    is_active: bool


# Evidence a Pemda coordinator fills in for their own Pemda; the rest (the
# verification visit, operator letters, installation, launch) is the ministry's.
COORDINATOR_EVIDENCE = frozenset({"application", "training", "trial_call", "regulation"})
EVIDENCE_KINDS = frozenset(
    {
        "application",
        "verification",
        "routing",
        "installation",
        "training",
        "trial_call",
        "launch",
        "regulation",
    }
)


def _role(principal: object) -> str:
    if principal is None or not getattr(principal, "is_active", False):
        return ""
    if getattr(principal, "is_authenticated", True) is False:
        return ""
    return str(getattr(principal, "role", "") or "")


def _region_id(principal: object) -> str | None:
    return getattr(principal, "region_id", None)


def is_national(principal: object) -> bool:
    return _role(principal) == Role.NATIONAL_OFFICER


def province_scope(principal: object) -> str | None:
    """The province a provincial officer is limited to, else None."""
    if _role(principal) == Role.PROVINCIAL_OFFICER:
        return _region_id(principal)
    return None


def can_view_console(principal: object) -> bool:
    """National dashboard, lists and exports over all of Indonesia."""
    return _role(principal) in {Role.NATIONAL_OFFICER, Role.AUDITOR}


def can_view_province(principal: object, province: Region) -> bool:
    role = _role(principal)
    if role in {Role.NATIONAL_OFFICER, Role.AUDITOR}:
        return True
    return role == Role.PROVINCIAL_OFFICER and _region_id(principal) == province.code


def can_view_pemda(principal: object, region: Region) -> bool:
    role = _role(principal)
    if role in {Role.NATIONAL_OFFICER, Role.AUDITOR}:
        return True
    if role == Role.PROVINCIAL_OFFICER:
        return _region_id(principal) == region.parent_id
    if role == Role.PEMDA_COORDINATOR:
        return _region_id(principal) == region.code
    return False


def can_comment(principal: object, region: Region) -> bool:
    role = _role(principal)
    if role == Role.NATIONAL_OFFICER:
        return True
    if role == Role.PROVINCIAL_OFFICER:
        return _region_id(principal) == region.parent_id
    if role == Role.PEMDA_COORDINATOR:
        return _region_id(principal) == region.code
    return False


def can_edit_evidence(principal: object, region: Region, kind: str) -> bool:
    if kind not in EVIDENCE_KINDS:
        return False
    role = _role(principal)
    if role == Role.NATIONAL_OFFICER:
        return True
    return (
        role == Role.PEMDA_COORDINATOR
        and _region_id(principal) == region.code
        and kind in COORDINATOR_EVIDENCE
    )


def can_advance(principal: object, region: Region, from_stage: str) -> bool:
    """National officers move any Pemda on; a coordinator only submits their
    own application (not started → application)."""
    role = _role(principal)
    if role == Role.NATIONAL_OFFICER:
        return True
    return (
        role == Role.PEMDA_COORDINATOR
        and _region_id(principal) == region.code
        and from_stage == "not_started"
    )


def can_send_back(principal: object, region: Region) -> bool:
    return _role(principal) == Role.NATIONAL_OFFICER


def can_query_api(principal: object) -> bool:
    """GraphQL onboarding data: national officers (all) and provincial officers
    (their province, see province_scope); everybody else is refused."""
    return _role(principal) in {Role.NATIONAL_OFFICER, Role.PROVINCIAL_OFFICER}


def can_query_region(principal: object, region: Region) -> bool:
    if is_national(principal):
        return True
    scope = province_scope(principal)
    return scope is not None and region.parent_id == scope


def can_view_own_status_on_tenant(principal: object) -> bool:
    """On a Pemda's own host, its leadership and admins see their onboarding
    status (read only); the tenant's region decides which Pemda."""
    return _role(principal) in {Role.PEMDA_ADMIN, Role.SUPERVISOR, Role.VIEWER}
