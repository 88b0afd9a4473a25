"""API tokens, the provincial incident feed and idempotency records (public schema).

A Pemda's host reads and writes these through its search path, which ends in
public, inside the same transaction as its own rows."""

from __future__ import annotations

from django.db import models
from django.db.models import BigIntegerField, Func
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def current_xact_id() -> Func:
    """The writing transaction's 64-bit id (xid8 as a bigint), taken by PostgreSQL
    at INSERT time: the feeds page by (txid, id) and serve only transactions older
    than every running one, so a row that commits late is never skipped."""
    return Func(template="(pg_current_xact_id()::text::bigint)", output_field=BigIntegerField())


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        TENANT = "tenant", _("One Pemda")
        PROVINCE = "province", _("One province")
        NATIONAL = "national", _("National")

    class Access(models.TextChoices):
        READ = "read", _("Read")
        READ_WRITE = "read_write", _("Read and write")

    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(max_length=10, choices=Scope.choices)
    access = models.CharField(max_length=10, choices=Access.choices, default=Access.READ)
    # Tenant scope: the Pemda's schema. Province scope: the province's region code.
    schema_name = models.CharField(max_length=63, blank=True, db_index=True)
    province_code = models.CharField(max_length=8, blank=True)
    # Users live in different schemas: who created it is kept as text.
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="tenant", province_code="")
                & ~models.Q(schema_name="")
                | models.Q(scope="province", schema_name="") & ~models.Q(province_code="")
                | models.Q(scope="national", schema_name="", province_code=""),
                name="api_token_scope_fields",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def writes(self) -> bool:
        return self.access == self.Access.READ_WRITE

    def state(self, now: object = None) -> str:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:  # type: ignore[operator]
            return "expired"
        return "active"


class ProvinceIncidentEvent(models.Model):
    """One change of one incident of one Pemda, summary fields only (no caller,
    no description, no names): what a province may follow without reading 514
    schemas. Written by the Pemda's transaction that made the change."""

    txid = models.BigIntegerField(db_default=current_xact_id(), editable=False)
    schema_name = models.CharField(max_length=63)
    province_code = models.CharField(max_length=8)
    tenant_name = models.CharField(max_length=120)
    incident_id = models.BigIntegerField()
    reference = models.CharField(max_length=40)
    kind = models.CharField(max_length=40)
    at = models.DateTimeField()
    category = models.CharField(max_length=40)
    priority = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12)
    kecamatan = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    is_test = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["province_code", "txid", "id"], name="province_event_feed"),
            models.Index(fields=["txid", "id"], name="province_event_all"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}:{self.kind}"


class IdempotencyRecord(models.Model):
    """The answer given to one Idempotency-Key on one Pemda's host, with the hash
    of the request that got it: a retry gets the same answer, another request
    under the same key is refused."""

    schema_name = models.CharField(max_length=63)
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["schema_name", "key"], name="idempotency_once")
        ]

    def __str__(self) -> str:
        return f"{self.schema_name}:{self.key}"
