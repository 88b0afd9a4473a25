from typing import Any

from django.db.models import QuerySet

from accounts.models import TENANT_ROLES, Role, User

STAFF_MANAGERS = (Role.PEMDA_ADMIN, Role.SUPERVISOR)


def staff_visible_to(user: User) -> QuerySet[User]:
    """Users of the current schema that `user` may list (none for most roles)."""
    if not user.is_authenticated or not user.has_role(*STAFF_MANAGERS):
        return User.objects.none()
    return User.objects.filter(is_active=True).order_by("username")


def staff_all() -> QuerySet[User]:
    """Every user of this Pemda, for the admin's staff page."""
    return User.objects.order_by("role", "username")


def tenant_role_choices() -> list[tuple[str, Any]]:
    return [(value, label) for value, label in Role.choices if value in TENANT_ROLES]
