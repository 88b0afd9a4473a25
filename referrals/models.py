"""Cross-Pemda referrals, in the public schema: the only place two Pemda meet.
A tenant never writes another tenant's schema; it writes a message here and the
other side reads it from its own site."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    IN_PROGRESS = "in_progress", _("In progress")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


class Referral(models.Model):
    Status = ReferralStatus

    from_schema = models.CharField(max_length=63, db_index=True)
    to_schema = models.CharField(max_length=63, db_index=True)
    # Ids inside each side's own schema: meaningful only to that side.
    source_incident_id = models.BigIntegerField()
    target_incident_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=ReferralStatus.choices,
                              default=ReferralStatus.SENT)
    # category, lat, lng, address, description, priority; never caller data.
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # The referring operator as the other side should see them (no login ids).
    actor_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(from_schema=models.F("to_schema")),
                                   name="referral_not_to_self"),
            # One open referral of an incident to a given Pemda at a time.
            models.UniqueConstraint(
                fields=["from_schema", "to_schema", "source_incident_id"],
                condition=models.Q(status__in=["sent", "accepted", "in_progress"]),
                name="referral_one_open_per_incident_and_pemda",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True)
                | models.Q(target_incident_id__isnull=False),
                name="referral_accepted_has_target",
            ),
        ]

    def __str__(self) -> str:
        return f"Referral #{self.pk} {self.from_schema} -> {self.to_schema} ({self.status})"

    def party(self, schema: str) -> str | None:
        """"sender", "receiver" or None for a schema that is neither."""
        if schema == self.from_schema:
            return "sender"
        if schema == self.to_schema:
            return "receiver"
        return None


class ReferralUpdate(models.Model):
    """Append-only: each side's status changes and notes, seen by both."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="updates")
    from_schema = models.CharField(max_length=63)
    status = models.CharField(max_length=12, choices=ReferralStatus.choices)
    note = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.status} by {self.from_schema}"
