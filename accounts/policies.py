"""Who may manage a Pemda's staff: the one place the staff views ask."""

from __future__ import annotations

from typing import Any

from accounts.models import Role


def can_manage_staff(user: Any) -> bool:
    """Create users, set roles, (de)activate, reset passwords: the Pemda admin."""
    return bool(user is not None and user.is_authenticated and user.has_role(Role.PEMDA_ADMIN))


# DESIGN §7: privileged roles log in with two factors. These roles change data
# across a whole Pemda (supervisor, admin) or across Pemda (national, provincial);
# call-takers, responders, viewers, coordinators and auditors keep password-only.
SECOND_FACTOR_ROLES = frozenset(
    {Role.SUPERVISOR, Role.PEMDA_ADMIN, Role.NATIONAL_OFFICER, Role.PROVINCIAL_OFFICER}
)


def needs_second_factor(user: Any) -> bool:
    return bool(
        user is not None and user.is_authenticated and user.has_role(*SECOND_FACTOR_ROLES)
    )


def can_reset_second_factor(user: Any) -> bool:
    """Reset a colleague's two-factor devices (lost phone): the Pemda admin on a
    Pemda's host, the national officer for the public site's accounts. Users live
    in their host's schema, so each can only ever reach their own host's users."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.has_role(Role.PEMDA_ADMIN, Role.NATIONAL_OFFICER)
    )
