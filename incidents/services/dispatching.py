"""Dispatching agencies and the follow-up: notify the agency, the responder's steps,
reassigning, and escalating what is overdue."""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from incidents.errors import OperationError
from incidents.models import (
    ACTIVE_DISPATCH,
    NEXT_STATUS,
    Agency,
    Dispatch,
    DispatchStatus,
    Incident,
    IncidentStatus,
    Outcome,
)
from incidents.selectors import dispatch_overdue_reason
from incidents.services.common import (
    agencies_chosen,
    lock_incident_not_closed,
    lock_or_404,
    timeline_add,
)
from incidents.services.status import incident_status_set, referral_status_sync
from outbox.services import outbox_enqueue
from tenants.db import current_schema
from tenants.models import Region, Tenant

logger = logging.getLogger(__name__)


def _notify_agency(dispatch: Dispatch) -> None:
    """Outbox rows for the agency's email and webhook, in the dispatch's transaction."""
    agency = dispatch.agency
    if not agency.email and not agency.webhook_url:
        return
    incident = dispatch.incident
    schema = current_schema()
    payload = {
        "event": "dispatch.created",
        "pemda": schema,
        "dispatch_id": dispatch.pk,
        "incident": {
            "reference": incident.reference,
            "category": incident.category.code,
            "category_name": incident.category.name,
            "priority": incident.priority,
            "latitude": incident.latitude,
            "longitude": incident.longitude,
            "address": incident.address,
            "kecamatan": incident.kecamatan,
            "kelurahan": incident.kelurahan,
            "description": incident.description,
            "created_at": incident.created_at.isoformat(),
        },
        "agency": {"code": agency.code, "name": agency.name},
        "dispatched_at": dispatch.dispatched_at.isoformat(),
    }
    subject = f"[Siaga112] {incident.reference} {incident.category.name}"
    if agency.email:
        outbox_enqueue(
            channel="email",
            receiver=agency.email,
            subject=subject,
            payload={**payload, "text": dispatch_email_text(dispatch)},
            dedupe_key=f"{schema}:dispatch:{dispatch.pk}:email",
        )
    if agency.webhook_url:
        outbox_enqueue(
            channel="webhook",
            receiver=agency.webhook_url,
            subject=subject,
            payload=payload,
            dedupe_key=f"{schema}:dispatch:{dispatch.pk}:webhook",
            secret=agency.webhook_secret,
        )


def dispatch_email_text(dispatch: Dispatch) -> str:
    """What the OPD's duty officer reads: Indonesian, times in the Pemda's zone, a
    link to act on. No caller number: the OPD console shows what its role may see."""
    incident = dispatch.incident
    # By name: under schema_context the connection holds a FakeTenant, no region.
    tenant = Tenant.objects.select_related("region").get(schema_name=current_schema())
    zone_name = tenant.region.timezone if tenant.region else Region.TimeZone.WIB
    zone = zoneinfo.ZoneInfo(zone_name)
    domain = tenant.get_primary_domain()
    port = str(settings.SIAGA112["PUBLIC_PORT"])
    link = (
        f"{settings.SIAGA112['PUBLIC_SCHEME']}://{domain.domain}{':' + port if port else ''}/opd/"
        if domain is not None
        else ""
    )
    where = incident.address or "-"
    if incident.latitude is not None:
        # Formatted here, not by a template filter: a dot, whatever the active language.
        where += f" ({incident.latitude:.5f}, {incident.longitude:.5f})"
    context = {
        "agency_name": dispatch.agency.name,
        "reference": incident.reference,
        "category_name": incident.category.name,
        "priority": incident.priority,
        "where": where,
        "description": incident.description,
        "dispatched_at": f"{timezone.localtime(dispatch.dispatched_at, zone):%d-%m-%Y %H:%M}",
        "zone_label": Region.TimeZone(zone_name).label,
        "link": link,
    }
    return render_to_string("incidents/email/dispatch.txt", context).strip()


def _dispatch_one(incident: Incident, agency: Agency, actor: User | None) -> Dispatch:
    if incident.dispatches.filter(agency=agency, status__in=ACTIVE_DISPATCH).exists():
        raise OperationError(
            _("%(agency)s is already working on %(ref)s.")
            % {"agency": agency.name, "ref": incident.reference},
            field="agency",
            status=409,
        )
    dispatch = Dispatch.objects.create(incident=incident, agency=agency, dispatched_by=actor)
    timeline_add(
        incident=incident,
        dispatch=dispatch,
        kind="dispatched",
        actor=actor,
        at=dispatch.dispatched_at,
        data={"agency": agency.code, "agency_name": agency.name},
    )
    _notify_agency(dispatch)
    logger.info("incident.dispatched", extra={"incident": incident.pk, "agency": agency.code})
    return dispatch


@transaction.atomic
def dispatch_create(
    *, incident_id: int, agency_ids: list[Any], actor: User | None
) -> list[Dispatch]:
    incident = lock_incident_not_closed(incident_id)
    dispatches = [_dispatch_one(incident, agency, actor) for agency in agencies_chosen(agency_ids)]
    incident_status_set(incident, IncidentStatus.DISPATCHED, actor)
    return dispatches


def _dispatches() -> QuerySet[Dispatch]:
    return Dispatch.objects.select_related("incident", "agency")


STATUS_FIELD = {
    DispatchStatus.ACKNOWLEDGED: "acknowledged_at",
    DispatchStatus.DEPARTED: "departed_at",
    DispatchStatus.ARRIVED: "arrived_at",
    DispatchStatus.RESOLVED: "resolved_at",
}


@transaction.atomic
def dispatch_advance(
    *,
    dispatch_id: int,
    to_status: str,
    actor: User | None,
    expected_version: int | None = None,
    outcome: str = "",
    note: str = "",
) -> Dispatch:
    """The responder's next step: acknowledge -> depart -> arrive -> resolve."""
    if to_status not in STATUS_FIELD:
        raise OperationError(
            f"status must be one of {', '.join(STATUS_FIELD)}, not {to_status!r}", field="status"
        )
    dispatch = lock_or_404(_dispatches(), dispatch_id, "dispatch")
    if expected_version is not None and expected_version != dispatch.version:
        raise OperationError(
            _("This dispatch was changed meanwhile (now '%(status)s'); reload and try again.")
            % {"status": dispatch.get_status_display()},
            field="version",
            status=409,
        )
    expected = NEXT_STATUS.get(DispatchStatus(dispatch.status))
    if expected is None:
        raise OperationError(
            _("This dispatch is already %(status)s.")
            % {"status": dispatch.get_status_display().lower()},
            field="status",
            status=409,
        )
    if to_status != expected:
        raise OperationError(
            _(
                "Cannot mark '%(to)s' now: the dispatch is '%(current)s', "
                "the next step is '%(next)s'."
            )
            % {"to": to_status, "current": dispatch.status, "next": expected.value},
            field="status",
            status=409,
        )
    if to_status == DispatchStatus.RESOLVED and outcome not in Outcome.values:
        raise OperationError(
            _("Choose the outcome (%(values)s).") % {"values": ", ".join(Outcome.values)},
            field="outcome",
        )
    now = timezone.now()
    setattr(dispatch, STATUS_FIELD[DispatchStatus(to_status)], now)
    dispatch.status = to_status
    dispatch.version += 1
    fields = ["status", "version", STATUS_FIELD[DispatchStatus(to_status)]]
    if to_status == DispatchStatus.RESOLVED:
        dispatch.outcome = outcome
        dispatch.note = note.strip()[:4000]
        fields += ["outcome", "note"]
    dispatch.save(update_fields=fields)
    data: dict[str, Any] = {
        "agency": dispatch.agency.code,
        "status": to_status,
        "seconds_since_dispatch": round((now - dispatch.dispatched_at).total_seconds(), 1),
    }
    if to_status == DispatchStatus.RESOLVED:
        data.update(outcome=outcome, note=dispatch.note)
    timeline_add(
        incident=dispatch.incident,
        dispatch=dispatch,
        kind=to_status,
        actor=actor,
        at=now,
        data=data,
    )
    logger.info("dispatch.advanced", extra={"dispatch": dispatch.pk, "status": to_status})
    incident = Incident.objects.select_for_update().get(pk=dispatch.incident_id)
    others = incident.dispatches.exclude(status=DispatchStatus.CANCELLED)
    if (
        to_status == DispatchStatus.RESOLVED
        and not others.exclude(status=DispatchStatus.RESOLVED).exists()
    ):
        incident_status_set(incident, IncidentStatus.RESOLVED, actor, dispatch.note)
    else:
        referral_status_sync(
            incident, f"dispatch_{to_status}", f"{dispatch.agency.name}: {to_status}"
        )
    return dispatch


@transaction.atomic
def dispatch_reassign(*, dispatch_id: int, agency_id: Any, actor: User) -> Dispatch:
    """Supervisor: cancel one agency's dispatch and hand the incident to another."""
    old = lock_or_404(_dispatches(), dispatch_id, "dispatch")
    if old.status not in ACTIVE_DISPATCH:
        raise OperationError(f"This dispatch is already {old.status}.", status=409)
    (agency,) = agencies_chosen([agency_id])
    if agency.pk == old.agency_id:
        raise OperationError(_("Choose a different agency."), field="agency")
    now = timezone.now()
    old.status = DispatchStatus.CANCELLED
    old.cancelled_at = now
    old.version += 1
    old.save(update_fields=["status", "cancelled_at", "version"])
    timeline_add(
        incident=old.incident,
        dispatch=old,
        kind="reassigned",
        actor=actor,
        at=now,
        data={"from": old.agency.code, "to": agency.code, "to_name": agency.name},
    )
    new = _dispatch_one(old.incident, agency, actor)
    incident_status_set(old.incident, IncidentStatus.DISPATCHED, actor)
    return new


NO_UNIT = "no_unit"


@transaction.atomic
def dispatch_no_unit(*, dispatch_id: int, actor: User, reason: str) -> Dispatch:
    """The OPD has no unit to send. The dispatch stays open (only a supervisor may
    move the incident to another OPD) but goes to the top of the supervisor's
    escalations at once, with the reason, instead of waiting for the ack timer."""
    reason = " ".join(str(reason).split())
    if len(reason) < 3:
        raise OperationError(
            _("Say why no unit is available (for example: both trucks on a fire)."),
            field="reason",
        )
    if len(reason) > 500:
        raise OperationError(_("The reason is at most 500 characters."), field="reason")
    dispatch = lock_or_404(_dispatches(), dispatch_id, "dispatch")
    if dispatch.status not in (DispatchStatus.PENDING, DispatchStatus.ACKNOWLEDGED):
        raise OperationError(
            _("This dispatch is already %(status)s.")
            % {"status": dispatch.get_status_display().lower()},
            field="status", status=409,
        )
    if dispatch.escalation_reason == NO_UNIT:
        raise OperationError(_("No unit available was already reported for this dispatch."),
                             field="reason", status=409)
    now = timezone.now()
    dispatch.escalated_at = now
    dispatch.escalation_reason = NO_UNIT
    dispatch.note = reason
    dispatch.version += 1
    dispatch.save(update_fields=["escalated_at", "escalation_reason", "note", "version"])
    timeline_add(
        incident=dispatch.incident, dispatch=dispatch, kind="no_unit", actor=actor, at=now,
        data={"agency": dispatch.agency.code, "note": reason},
    )
    logger.info("dispatch.no_unit", extra={"dispatch": dispatch.pk})
    return dispatch


@transaction.atomic
def dispatches_escalate(*, now: datetime | None = None) -> int:
    """Mark overdue dispatches escalated (once per reason) with a timeline entry."""
    now = now or timezone.now()
    count = 0
    query = (
        Dispatch.objects.select_for_update(skip_locked=True)
        .select_related("incident__category", "agency")
        .filter(status__in=ACTIVE_DISPATCH)
    )
    for dispatch in query:
        reason = dispatch_overdue_reason(dispatch, dispatch.incident.category, now)
        # "No unit available" already put it in front of the supervisor; a timer
        # must not overwrite the OPD's own reason.
        if not reason or dispatch.escalation_reason in (reason, NO_UNIT):
            continue
        dispatch.escalated_at = now
        dispatch.escalation_reason = reason
        dispatch.save(update_fields=["escalated_at", "escalation_reason"])
        timeline_add(
            incident=dispatch.incident,
            dispatch=dispatch,
            kind="escalated",
            actor=None,
            at=now,
            data={"agency": dispatch.agency.code, "reason": reason},
        )
        count += 1
    if count:
        logger.info("dispatch.escalated", extra={"count": count, "schema": current_schema()})
    return count
