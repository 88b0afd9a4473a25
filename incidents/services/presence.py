"""Call-takers' presence: available or away, set by the call-taker from the navbar,
set away when they sign out or when their pages stop polling (the heartbeat). Being
on a call is derived from the calls (incidents.routing) and never stored.

Every change is audited ("presence.changed", with the reason) and bumps the Pemda's
presence counter, so the ringing routing and the supervisor's board re-render."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import Target, record
from incidents import live
from incidents.errors import OperationError
from incidents.models import IncidentSettings, OperatorPresence, PresenceStatus
from incidents.policies import can_take_calls
from tenants.db import current_schema

logger = logging.getLogger(__name__)

# Why a presence changed, as the audit trail keeps it.
BY_OPERATOR = "operator"
SIGNED_OUT = "signed_out"
NO_HEARTBEAT = "no_heartbeat"


def presence_set(*, user: User, status: str, actor: Any, reason: str = BY_OPERATOR
                 ) -> OperatorPresence:
    """Set `user`'s presence; nothing is written (nor audited) when it is already so."""
    if status not in PresenceStatus.values:
        raise OperationError(f"status must be one of {', '.join(PresenceStatus.values)}",
                             field="status")
    if not can_take_calls(user):
        raise OperationError("only call-takers and supervisors have a presence",
                             field="user", status=403)
    with transaction.atomic():
        # No row reads as away, and a new row starts away: setting away changes nothing.
        row, _created = OperatorPresence.objects.select_for_update().get_or_create(user=user)
        before = row.status
        if before == status:
            return row
        row.status = status
        row.changed_at = timezone.now()
        row.save(update_fields=["status", "changed_at"])
        target = Target(type="operatorpresence", id=str(user.pk),
                        label=(user.display_name or user.get_username())[:200])
        record(actor=actor, action="presence.changed", target=target,
               before={"status": before}, after={"status": status, "reason": reason})
        live.changed(live.PRESENCE)
    logger.info("presence.changed", extra={"user": user.pk, "status": status, "reason": reason})
    return row


def presence_signed_out(*, user: Any) -> None:
    """Signing out leaves the line: an available call-taker becomes away."""
    if not can_take_calls(user):
        return
    if OperatorPresence.objects.filter(user=user, status=PresenceStatus.AVAILABLE).exists():
        presence_set(user=user, status=PresenceStatus.AWAY, actor=user, reason=SIGNED_OUT)


def presence_expire_stale(*, now: float | None = None) -> int:
    """Available call-takers whose pages have not polled for the Pemda's presence
    timeout become away (beat job, every minute). With Redis away nothing is known
    about heartbeats, so nobody is set away."""
    now = now if now is not None else time.time()
    limit = IncidentSettings.load().presence_timeout_minutes * 60
    rows = list(OperatorPresence.objects.filter(status=PresenceStatus.AVAILABLE)
                .select_related("user"))
    if not rows:
        return 0
    beats = live.heartbeats(current_schema(), [r.user_id for r in rows])
    if beats is None:
        return 0
    expired = 0
    for row in rows:
        last = beats.get(row.user_id)
        # Set available moments ago and not yet polled: the set time counts as a beat.
        last = max(last or 0, int(row.changed_at.timestamp()))
        if now - last >= limit:
            presence_set(user=row.user, status=PresenceStatus.AWAY, actor=None,
                         reason=NO_HEARTBEAT)
            expired += 1
    return expired
