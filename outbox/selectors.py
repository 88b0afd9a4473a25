"""Reads of the outbox (current tenant schema)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from outbox.models import OutboxMessage


def outbox_messages_for(*, dedupe_prefix: str) -> QuerySet[OutboxMessage]:
    """Messages whose dedupe key starts with `dedupe_prefix` (e.g. "dispatch:42:"),
    newest first: what a screen shows as "notified by email/webhook: sent"."""
    return OutboxMessage.objects.filter(dedupe_key__startswith=dedupe_prefix).order_by("-id")


def outbox_status_counts() -> dict[str, int]:
    """How many messages per status, for a health view or a metric."""
    counts = {str(status): 0 for status in OutboxMessage.Status.values}
    for row in OutboxMessage.objects.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts
