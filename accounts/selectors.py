from django.db.models import QuerySet

from accounts.models import Role, User

STAFF_MANAGERS = (Role.PEMDA_ADMIN, Role.SUPERVISOR)


def staff_visible_to(user: User) -> QuerySet[User]:
    """Users of the current schema that `user` may list (none for most roles)."""
    if not user.is_authenticated or not user.has_role(*STAFF_MANAGERS):
        return User.objects.none()
    return User.objects.filter(is_active=True).order_by("username")
