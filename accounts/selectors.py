import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import TENANT_ROLES, Role, User
from accounts.policies import SECOND_FACTOR_ROLES

STAFF_MANAGERS = (Role.PEMDA_ADMIN, Role.SUPERVISOR)


def staff_visible_to(user: User) -> QuerySet[User]:
    """Users of the current schema that `user` may list (none for most roles)."""
    if not user.is_authenticated or not user.has_role(*STAFF_MANAGERS):
        return User.objects.none()
    return User.objects.filter(is_active=True).order_by("username")


def staff_all() -> QuerySet[User]:
    """Every user of this Pemda, for the admin's staff page."""
    return User.objects.order_by("role", "username")


def locked_out_usernames() -> set[str]:
    """This Pemda's usernames the login refuses now (axes: too many failures within
    the cool-off), for the admin's "locked" badge and unlock button."""
    from axes.models import AccessAttempt
    from django.conf import settings

    since = timezone.now() - dt.timedelta(hours=float(settings.AXES_COOLOFF_TIME))
    return set(
        AccessAttempt.objects.filter(
            failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since
        ).values_list("username", flat=True)
    )


def tenant_role_choices() -> list[tuple[str, Any]]:
    return [(value, label) for value, label in Role.choices if value in TENANT_ROLES]


def second_factor_status(user: User) -> dict[str, Any]:
    """What a person (or their admin) sees of their second factor."""
    return {
        "totp": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "backup_codes_left": StaticToken.objects.filter(
            device__user=user, device__confirmed=True
        ).count(),
    }


def second_factor_users() -> list[dict[str, Any]]:
    """Every user of this schema in a two-factor role, with whether they enrolled."""
    enrolled = set(
        TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True)
    )
    users = User.objects.filter(role__in=SECOND_FACTOR_ROLES).order_by("role", "username")
    return [{"user": u, "enrolled": u.pk in enrolled} for u in users]
