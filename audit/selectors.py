"""Reads of the audit trail of the current schema."""

from __future__ import annotations

from django.db.models import QuerySet

from audit.models import AuditEntry, RowHistory


def entries(*, action: str = "", username: str = "") -> QuerySet[AuditEntry]:
    """Newest first, optionally one action code and one actor's username."""
    qs = AuditEntry.objects.order_by("-at", "-id")
    if action:
        qs = qs.filter(action=action)
    if username:
        qs = qs.filter(actor_username=username)
    return qs


def actor_usernames() -> list[str]:
    """Who appears in this trail, for the user filter (system rows excluded)."""
    return list(
        AuditEntry.objects.exclude(actor_username="")
        .order_by("actor_username")
        .values_list("actor_username", flat=True)
        .distinct()
    )


def history(*, table: str = "", row_pk: str = "") -> QuerySet[RowHistory]:
    """The database's row history of this schema, newest first, optionally one
    table (and one row of it)."""
    qs = RowHistory.objects.order_by("-at", "-id")
    if table:
        qs = qs.filter(table_name=table)
        if row_pk:
            qs = qs.filter(row_pk=row_pk)
    return qs
