"""Shift handover: the outgoing supervisor's notes and the incoming one's acknowledgement."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from incidents.errors import OperationError
from incidents.models import HandoverNote
from incidents.services.common import actor_label, lock_or_404

logger = logging.getLogger(__name__)

NOTE_MAX = 4000


def handover_note_write(*, actor: User, text: str) -> HandoverNote:
    text = (text or "").strip()
    if not text:
        raise OperationError(_("Write what the next shift needs to know."), field="text")
    if len(text) > NOTE_MAX:
        raise OperationError(_("A handover note is at most 4000 characters."), field="text")
    note = HandoverNote.objects.create(text=text, written_by=actor,
                                       written_by_name=actor_label(actor))
    logger.info("handover.note_written", extra={"note": note.pk})
    return note


@transaction.atomic
def handover_note_acknowledge(*, note_id: int, actor: User) -> HandoverNote:
    note = lock_or_404(HandoverNote.objects.all(), note_id, "handover note")
    if note.acknowledged_at is not None:
        raise OperationError(
            _("%(name)s already acknowledged this note.") % {"name": note.acknowledged_by_name},
            field="note", status=409,
        )
    if note.written_by_id == actor.pk:
        # The point is that the next person read it.
        raise OperationError(_("The incoming supervisor acknowledges a note, not its author."),
                             field="note", status=409)
    note.acknowledged_by = actor
    note.acknowledged_by_name = actor_label(actor)
    note.acknowledged_at = timezone.now()
    note.save(update_fields=["acknowledged_by", "acknowledged_by_name", "acknowledged_at"])
    logger.info("handover.note_acknowledged", extra={"note": note.pk})
    return note
