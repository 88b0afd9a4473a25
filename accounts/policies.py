"""Who may manage a Pemda's staff: the one place the staff views ask."""

from __future__ import annotations

from typing import Any

from accounts.models import Role


def can_manage_staff(user: Any) -> bool:
    """Create users, set roles, (de)activate, reset passwords: the Pemda admin."""
    return bool(user is not None and user.is_authenticated and user.has_role(Role.PEMDA_ADMIN))
