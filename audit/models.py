"""The audit trail: one append-only row per administrative change.

The same table exists in the public schema (national changes: tenants,
onboarding, invitations) and in every Pemda schema (that Pemda's own admin
changes: staff, agencies, categories, routing, settings, PBX keys, blocks), so
each audience reads its own trail and no tenant can see another's.

Rows are never changed: a PostgreSQL trigger (migrations 0001 and 0002) refuses
UPDATE, DELETE and TRUNCATE for every database user, including the
application's. The only way out is the personal-data retention purge (issue 8,
incidents.services.retention), which runs `SET LOCAL siaga112.purge = 'on'`
before pseudonymising (UPDATE) or deleting, and writes its own audit row saying
what it purged. SET LOCAL lasts until the outermost transaction ends (a
savepoint does not end it), so the purge switches it off again before its
block ends; a failure rolls back to the block's savepoint, which undoes the
SET LOCAL too. TRUNCATE has no exception.

`RowHistory` (audit.history) is the lower layer: written by a trigger on each
watched table, never by Python, and guarded the same way.

Nothing here is a foreign key: the actor and the target are snapshots (id,
username, role, label) taken when the change happened, so a row outlives the
user or the object it names and a deleted user never blocks or cascades into
the trail.
"""

from __future__ import annotations

from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import actions


class AuditEntry(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # The actor's id in the schema the change was made in (a Pemda's staff id
    # in a tenant schema, a national account's id in public); null for the
    # system (Celery worker, command line).
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=24, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    # Only the fields that changed; secrets are masked (audit.services.diff).
    before = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["actor_username", "-at"], name="audit_actor_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.target_type}:{self.target_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The trigger refuses an UPDATE anyway; refusing here gives a clearer error.
        if self.pk is not None and not self._state.adding:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    @property
    def action_label(self) -> str:
        return str(actions.action_label(self.action))

    @property
    def target_type_label(self) -> str:
        return str(actions.target_type_label(self.target_type))


class RowHistory(models.Model):
    """One row per INSERT, UPDATE or DELETE of a watched table, written by the
    database trigger of audit.history (never by Python), append-only like the
    trail. `before`/`after` are whole row images (secrets masked); null on the
    side that did not exist."""

    at = models.DateTimeField(db_default=Now(), db_index=True)
    table_name = models.CharField(max_length=63)
    row_pk = models.CharField(max_length=64)
    op = models.CharField(max_length=8)  # INSERT / UPDATE / DELETE
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    # The PostgreSQL role that wrote, and its transaction (rows of one change share it).
    db_user = models.CharField(max_length=63)
    txid = models.BigIntegerField()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("row history")
        verbose_name_plural = _("row history")
        indexes = [
            models.Index(fields=["table_name", "row_pk", "-at"], name="audit_history_row"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.op} {self.table_name}:{self.row_pk}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        raise ValueError("row history is written by the database trigger only")

    def changes(self) -> list[tuple[str, Any, Any]]:
        """(column, before, after) for each column that differs."""
        old, new = self.before or {}, self.after or {}
        return [
            (key, old.get(key), new.get(key))
            for key in dict.fromkeys([*old.keys(), *new.keys()])
            if old.get(key) != new.get(key)
        ]
