"""Users. The same table exists in the public schema (national, provincial,
coordinator, auditor accounts) and in every tenant schema (that Pemda's own
staff): an account is only ever valid on the host whose schema holds it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


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


class User(AbstractUser):
    role = models.CharField(max_length=24, choices=Role.choices, blank=True)
    # Provincial officer: their province. Pemda coordinator: their kabupaten/kota.
    region = models.ForeignKey(
        "tenants.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    display_name = models.CharField(max_length=120, blank=True)

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
