"""An incident's status change, and its mirror on a cross-Pemda referral: the
other side sees local progress through a public update."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from incidents.models import Incident, IncidentStatus
from incidents.services.common import timeline_add
from referrals.services import referral_post_update
from tenants.db import current_schema

logger = logging.getLogger(__name__)


# Local status -> the referral status the other side sees.
_REFERRAL_STATUS = {
    IncidentStatus.DISPATCHED: "in_progress",
    IncidentStatus.RESOLVED: "resolved",
    IncidentStatus.CLOSED: "closed",
}


def referral_status_sync(incident: Incident, status: str, note: str) -> None:
    """Tell the other Pemda about a change on a referred incident (a public message).

    The local change never fails because of the exchange: an update the referral
    refuses (not accepted yet, already final, a phone number in the note) is
    skipped in its own savepoint and logged."""
    if incident.referral_out_id is None and incident.referral_in_id is None:
        return

    referral_status = (
        _REFERRAL_STATUS.get(IncidentStatus(status), "in_progress")
        if (status in IncidentStatus.values)
        else "in_progress"
    )
    text = note or f"status: {status}"
    for referral_id in (incident.referral_out_id, incident.referral_in_id):
        if referral_id is None:
            continue
        try:
            with transaction.atomic():
                referral_post_update(
                    referral_id=referral_id,
                    from_schema=current_schema(),
                    status=referral_status,
                    note=text[:500],
                )
        except ValidationError:
            logger.info(
                "referral.update_skipped",
                extra={"referral": referral_id, "status": referral_status},
            )


def incident_status_set(
    incident: Incident, status: str, actor: User | None, note: str = ""
) -> None:
    if incident.status == status:
        return
    previous = incident.status
    incident.status = status
    fields = ["status"]
    if status == IncidentStatus.CLOSED:
        incident.closed_at = timezone.now()
        incident.closed_by = actor
        fields += ["closed_at", "closed_by"]
    incident.save(update_fields=fields)
    timeline_add(
        incident=incident,
        kind="status",
        actor=actor,
        data={"from": previous, "to": status, **({"note": note} if note else {})},
    )
    referral_status_sync(incident, status, note)
