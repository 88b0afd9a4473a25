"""Notifications waiting to go out, in the tenant schema of the Pemda that sent
them. Written in the same transaction as the change they announce (a dispatch),
delivered after commit by a Celery task, retried by a periodic sweep."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        WEBHOOK = "webhook", _("Webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Given up")

    channel = models.CharField(max_length=10, choices=Channel.choices)
    # An email address or an http(s) URL, depending on the channel.
    receiver = models.CharField(max_length=500)
    subject = models.CharField(max_length=255, blank=True)
    payload = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    # With the receiver: one delivery per (receiver, key), however often enqueued.
    dedupe_key = models.CharField(max_length=200)
    # Webhook signing secret; never rendered, never logged (see __repr__).
    secret = models.CharField(max_length=200, blank=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # When the current (or last) attempt claimed the row: tells a crashed worker's
    # "sending" row from one that is in flight.
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["receiver", "dedupe_key"], name="outbox_one_per_receiver"
            ),
            models.CheckConstraint(
                condition=models.Q(channel__in=["email", "webhook"]), name="outbox_known_channel"
            ),
            models.CheckConstraint(
                condition=~models.Q(status="sent") | models.Q(sent_at__isnull=False),
                name="outbox_sent_has_time",
            ),
        ]
        indexes = [
            # The sweep's question: what is due? Sent and dead rows are most of
            # the table and never asked about.
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due_idx",
                condition=models.Q(status__in=["pending", "failed", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk} ({self.status})"

    def __repr__(self) -> str:
        # No receiver, payload or secret: reprs end up in logs and error reports.
        return f"<OutboxMessage #{self.pk} {self.channel} {self.status} attempts={self.attempts}>"
