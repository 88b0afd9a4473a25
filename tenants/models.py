"""Regions (Kemendagri codes) and the Pemda tenants that run on them.

Both live in the public schema: every national question ("how many launched in
Jawa Timur?") is answered without entering a tenant schema.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin


class Region(models.Model):
    class Kind(models.TextChoices):
        PROVINCE = "province", _("Province")
        REGENCY = "regency", _("Regency/City")

    class TimeZone(models.TextChoices):
        WIB = "Asia/Jakarta", "WIB"
        WITA = "Asia/Makassar", "WITA"
        WIT = "Asia/Jayapura", "WIT"

    # Kemendagri code: "35" for Jawa Timur, "35.15" for Kabupaten Sidoarjo.
    code = models.CharField(max_length=8, primary_key=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_city = models.BooleanField(default=False, help_text="Kota rather than Kabupaten")
    timezone = models.CharField(max_length=20, choices=TimeZone.choices)
    # Host label for the Pemda's tenant (dairi.localhost); unique across Indonesia.
    slug = models.SlugField(max_length=60, unique=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="province", parent__isnull=True)
                | models.Q(kind="regency", parent__isnull=False),
                name="region_regency_has_province",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def short_name(self) -> str:
        """'Kab. Sidoarjo' / 'Kota Malang', as the press writes them."""
        if self.name.startswith("Kabupaten "):
            return "Kab. " + self.name.removeprefix("Kabupaten ")
        return self.name


class Tenant(TenantMixin):
    """One Pemda's call center: its own schema, reached on <slug>.<base domain>."""

    class Status(models.TextChoices):
        PLATFORM = "platform", _("Platform (public / template)")
        INSTALLED = "installed", _("Installed")
        TRAINING = "training", _("FGD/Bimtek")
        TRIAL = "trial", _("Trial")
        LIVE = "live", _("Live")

    name = models.CharField(max_length=120)
    region = models.OneToOneField(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="tenant"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.INSTALLED)
    is_template = models.BooleanField(default=False)
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Schemas are created by tenants.services.tenant_provision (a clone of the
    # template), never as a side effect of save().
    auto_create_schema = False
    auto_drop_schema = False

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_public(self) -> bool:
        return self.schema_name == "public"

    @property
    def in_trial(self) -> bool:
        """Calls taken while in trial are test calls, kept out of live figures."""
        return self.status != self.Status.LIVE


class Domain(DomainMixin):
    pass
