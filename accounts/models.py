"""Users. The same table exists in the public schema (national, provincial,
coordinator, auditor accounts) and in every tenant schema (that Pemda's own
staff): an account is only ever valid on the host whose schema holds it."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from core.rows import from_row, select_list


class Role(models.TextChoices):
    # public site
    NATIONAL_OFFICER = "national_officer", _("Kominfo national officer")
    PROVINCIAL_OFFICER = "provincial_officer", _("Provincial officer")
    PEMDA_COORDINATOR = "pemda_coordinator", _("Pemda coordinator")
    AUDITOR = "auditor", _("Auditor")
    # tenant site
    CALL_TAKER = "call_taker", _("Call-taker")
    SUPERVISOR = "supervisor", _("Supervisor")
    OPD_RESPONDER = "opd_responder", _("OPD responder")
    PEMDA_ADMIN = "pemda_admin", _("Pemda admin")
    VIEWER = "viewer", _("Leadership viewer")


PUBLIC_ROLES = frozenset(
    {Role.NATIONAL_OFFICER, Role.PROVINCIAL_OFFICER, Role.PEMDA_COORDINATOR, Role.AUDITOR}
)
TENANT_ROLES = frozenset(
    {Role.CALL_TAKER, Role.SUPERVISOR, Role.OPD_RESPONDER, Role.PEMDA_ADMIN, Role.VIEWER}
)


class Users(UserManager["User"]):
    """Django's user manager, with `get(pk=…)` read by one fixed statement.

    Every signed-in request loads its user that way (ModelBackend.get_user), and through
    the ORM building and compiling that query was about a seventh of an incident's CPU in
    the intake profile. Same row, same instance (`from_db`, as a queryset builds it),
    same `DoesNotExist`; any other lookup is the ORM's."""

    def get(self, *args: Any, **kwargs: Any) -> User:
        if args or len(kwargs) != 1 or "pk" not in kwargs or self._db not in (None, "default"):
            return super().get(*args, **kwargs)
        model = self.model
        pk = model._meta.pk
        assert pk is not None
        value = pk.get_db_prep_value(pk.get_prep_value(kwargs["pk"]), connection)
        q = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {select_list(model)} FROM {q(model._meta.db_table)} "  # noqa: S608
                f"WHERE {q(str(pk.column))} = %s",  # names from the model, the value a parameter
                [value],
            )
            row = cursor.fetchone()
        if row is None:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        return from_row(model, row)


class User(AbstractUser):
    role = models.CharField(max_length=24, choices=Role.choices, blank=True)
    # Provincial officer: their province. Pemda coordinator: their kabupaten/kota.
    region = models.ForeignKey(
        "tenants.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    display_name = models.CharField(max_length=120, blank=True)

    objects: ClassVar[Users] = Users()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role__in=["provincial_officer", "pemda_coordinator"])
                | models.Q(region__isnull=False),
                name="user_scoped_role_has_region",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    def has_role(self, *roles: str) -> bool:
        return self.is_active and self.role in roles


class AdminInvitation(models.Model):
    """One-time link for the first Pemda-admin account of a new tenant.
    Only the SHA-256 of the token is stored; the token itself travels by email.

    Lives in the public schema only: it was born in `onboarding` and kept its
    table when it moved here (a state-only migration), and a Pemda's host reads
    it through the search path, which ends in public."""

    region = models.ForeignKey("tenants.Region", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField(blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "onboarding_admininvitation"

    def __str__(self) -> str:
        return f"Invitation {self.region_id}"
