"""Webhook subscribers and their delivery log, in the public schema.

A subscriber belongs to one Pemda (its admin manages it on the Pemda's site) or to
one province (a national officer manages it on the national site) and receives
that Pemda's, or that province's live Pemda's, incident events. The deliveries
live here too, next to their subscription: a province's log is one query, never a
walk through the province's tenant schemas."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EVENT_TYPES = {
    "incident.created": _("Incident created"),
    "incident.status_changed": _("Incident status changed"),
    "incident.dispatched": _("Agency dispatched"),
    "incident.closed": _("Incident closed"),
}


class WebhookSubscription(models.Model):
    class Scope(models.TextChoices):
        TENANT = "tenant", _("One Pemda")
        PROVINCE = "province", _("A province's live Pemda")

    scope = models.CharField(max_length=10, choices=Scope.choices)
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True,
                               on_delete=models.CASCADE, related_name="+")
    province = models.ForeignKey("tenants.Region", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=80)
    url = models.CharField(max_length=500)
    # The HMAC key: shown once when created, used to sign, never rendered again.
    secret = models.CharField(max_length=128, editable=False)
    event_types = models.JSONField(default=list)
    # Users live in different schemas (a Pemda's or the public one): kept by name.
    created_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope="tenant", tenant__isnull=False, province__isnull=True)
                | models.Q(scope="province", province__isnull=False, tenant__isnull=True),
                name="webhook_subscription_one_scope",
            )
        ]
        indexes = [models.Index(fields=["tenant"], name="webhook_sub_tenant_idx"),
                   models.Index(fields=["province"], name="webhook_sub_province_idx")]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<WebhookSubscription #{self.pk} {self.scope}>"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Given up")

    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE,
                                     related_name="deliveries")
    # The Pemda where the event happened (a province subscriber hears several).
    tenant_schema = models.CharField(max_length=63)
    event = models.CharField(max_length=40)
    # The event's id, the same for every subscriber and every retry.
    event_id = models.CharField(max_length=200)
    # What receivers dedupe on (X-Siaga112-Delivery): the event id, or a replay's own.
    delivery_key = models.CharField(max_length=220)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    replay_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="replays")
    replayed_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "delivery_key"],
                                    name="webhook_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due_idx",
                         condition=models.Q(status__in=["pending", "failed", "sending"])),
            models.Index(fields=["subscription", "-created_at"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.pk} ({self.status})"
