"""Creating incidents (with the duplicate offer), attaching calls, closing."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.errors import Conflict, Invalid
from core.rows import insert_columns
from core.rules import INDONESIA_LAT, INDONESIA_LNG
from incidents import live
from incidents.errors import OperationError
from incidents.models import (
    ACTIVE_DISPATCH,
    Call,
    CallType,
    Category,
    DispatchStatus,
    Incident,
    IncidentStatus,
    Priority,
    TimelineEntry,
)
from incidents.selectors import incident_by_key_or_duplicates
from incidents.services.common import (
    active_category,
    actor_label,
    incident_settings,
    lock_incident_not_closed,
    lock_or_404,
    normalize_phone_field,
    parse_float,
    timeline_add,
    timeline_published,
)
from incidents.services.status import incident_status_set

logger = logging.getLogger(__name__)


@dataclass
class IncidentInput:
    category: str  # id or code
    description: str
    latitude: object = None
    longitude: object = None
    address: str = ""
    kecamatan: str = ""
    kelurahan: str = ""
    caller: str = ""
    call_id: int | None = None
    idempotency_key: str = ""


@dataclass
class CleanIncident:
    category: Category
    description: str
    latitude: float | None
    longitude: float | None
    address: str
    kecamatan: str
    kelurahan: str
    caller: str
    call: Call | None
    idempotency_key: str


def incident_validate(data: IncidentInput) -> CleanIncident:
    """Every check on the form, before anything is written."""
    raw_category = str(data.category or "").strip()
    if not raw_category:
        raise OperationError(_("Choose a category."), field="category")
    category = active_category(raw_category)
    if category is None:
        raise OperationError(
            _("Unknown category %(code)r.") % {"code": raw_category}, field="category"
        )
    lat = parse_float(data.latitude, "latitude")
    lng = parse_float(data.longitude, "longitude")
    if (lat is None) != (lng is None):
        raise OperationError(
            _("Give both latitude and longitude, or neither."),
            field="longitude" if lng is None else "latitude",
        )
    if lat is not None and not INDONESIA_LAT[0] <= lat <= INDONESIA_LAT[1]:
        raise OperationError(
            _("Latitude %(value)s is outside Indonesia (%(low)s to %(high)s).")
            % {"value": lat, "low": INDONESIA_LAT[0], "high": INDONESIA_LAT[1]},
            field="latitude",
        )
    if lng is not None and not INDONESIA_LNG[0] <= lng <= INDONESIA_LNG[1]:
        raise OperationError(
            _("Longitude %(value)s is outside Indonesia (%(low)s to %(high)s).")
            % {"value": lng, "low": INDONESIA_LNG[0], "high": INDONESIA_LNG[1]},
            field="longitude",
        )
    address = (data.address or "").strip()[:255]
    if lat is None and not address:
        raise OperationError(_("Give the location: coordinates or an address."), field="address")
    description = (data.description or "").strip()
    if not description:
        raise OperationError(_("Write a short description."), field="description")
    if len(description) > 4000:
        raise OperationError("The description is too long (4000 characters).", field="description")
    call = None
    if data.call_id is not None:
        call = Call.objects.filter(pk=data.call_id).first()
        if call is None:
            raise OperationError(_("No such call."), field="call")
    caller = normalize_phone_field(data.caller, "caller") if (data.caller or "").strip() else ""
    if call is not None and not caller:
        caller = call.caller
    key = (data.idempotency_key or "").strip()
    if len(key) > 64:
        raise OperationError("idempotency key too long", field="idempotency_key")
    return CleanIncident(
        category=category,
        description=description,
        latitude=lat,
        longitude=lng,
        address=address,
        kecamatan=(data.kecamatan or "").strip()[:100],
        kelurahan=(data.kelurahan or "").strip()[:100],
        caller=caller,
        call=call,
        idempotency_key=key or uuid.uuid4().hex,
    )


class DuplicateOffer(Conflict):
    """The new incident looks like an open one: offer linking instead. The console
    catches it to offer the candidates; a caller that does not is still answered
    409 with the message by core.http, never a 500."""

    code: str | None = "duplicate_incident"
    default_message = gettext_noop("A similar open incident exists: link to it, or send force=1.")

    def __init__(self, candidates: list[Incident]) -> None:
        super().__init__()
        self.candidates = candidates


@dataclass
class IncidentCreated:
    incident: Incident
    created: bool


@transaction.atomic
def incident_create(
    *, data: IncidentInput, actor: User | None, is_test: bool, force: bool = False
) -> IncidentCreated:
    """Create an incident (or return the one this idempotency key already made)."""
    clean = incident_validate(data)
    cfg = incident_settings()
    # The key's earlier incident and (unless forced) the duplicate candidates: one query.
    existing, candidates = incident_by_key_or_duplicates(
        idempotency_key=clean.idempotency_key,
        category=None if force else clean.category,
        latitude=clean.latitude,
        longitude=clean.longitude,
        caller="" if force else clean.caller,
        cfg=cfg,
    )
    if existing is not None:
        return IncidentCreated(existing, False)
    if candidates:
        raise DuplicateOffer(candidates)
    outside = (
        cfg.in_area(clean.latitude, clean.longitude) is False
        if clean.latitude is not None and clean.longitude is not None
        else False
    )
    now = timezone.now()
    incident = Incident(
        category=clean.category,
        priority=clean.category.priority,
        latitude=clean.latitude,
        longitude=clean.longitude,
        address=clean.address,
        kecamatan=clean.kecamatan,
        kelurahan=clean.kelurahan,
        outside_area=outside,
        description=clean.description,
        caller=clean.caller,
        is_test=is_test,
        idempotency_key=clean.idempotency_key,
        created_by=actor,
        created_at=now,
    )
    entry = TimelineEntry(
        kind="created",
        actor=actor,
        actor_name=actor_label(actor),
        at=now,
        data={
            "category": clean.category.code,
            "priority": incident.priority,
            "outside_area": outside,
        },
    )
    if not _insert_with_timeline(incident, entry, reference_prefix=f"INC-{now:%y%m%d}-"):
        # A concurrent double submit won the race: its incident is the one.
        return IncidentCreated(Incident.objects.get(idempotency_key=clean.idempotency_key), False)
    if clean.call is not None:
        _call_attach(incident, clean.call, actor)
    logger.info(
        "incident.created",
        extra={"incident": incident.pk, "category": clean.category.code, "test": is_test},
    )
    return IncidentCreated(incident, True)


def _insert_with_timeline(incident: Incident, entry: TimelineEntry, reference_prefix: str
                          ) -> bool:
    """The incident row (its reference made from its own id) and its 'created'
    timeline row in ONE statement; False, writing nothing, if the idempotency key
    is taken. The ORM needed five round trips (SAVEPOINT, INSERT, RELEASE, UPDATE of
    the reference, INSERT of the timeline row)."""
    q = connection.ops.quote_name
    table, timeline = Incident._meta.db_table, TimelineEntry._meta.db_table
    columns, values = insert_columns(Incident, incident, {"reference"})
    entry_columns, entry_values = insert_columns(TimelineEntry, entry, {"incident_id"})
    # Only model metadata (table and column names, quoted) is formatted in; every
    # value travels as a parameter.
    sql = f"""
WITH n AS (SELECT nextval(pg_get_serial_sequence(%s, 'id')) AS id
), new_incident AS (
    INSERT INTO {q(table)} (id, reference, {", ".join(columns)})
    SELECT n.id, %s || CASE WHEN n.id < 100000 THEN lpad(n.id::text, 5, '0')
                            ELSE n.id::text END,
           {", ".join(["%s"] * len(values))}
    FROM n
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, reference
), new_entry AS (
    INSERT INTO {q(timeline)} (incident_id, {", ".join(entry_columns)})
    SELECT id, {", ".join(["%s"] * len(entry_values))} FROM new_incident
    RETURNING id
)
SELECT id, reference, (SELECT id FROM new_entry) FROM new_incident
"""  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [table, reference_prefix, *values, *entry_values])
        row = cursor.fetchone()
    if row is None:
        return False
    incident.pk, incident.reference, entry.pk = row
    incident._state.adding = False
    incident._state.db = "default"
    entry.incident = incident
    entry._state.adding = False
    entry._state.db = "default"
    # What save() and timeline_add would have done: the province feed and webhook
    # events (same transaction), and the consoles' change counter.
    timeline_published(incident, entry)
    live.changed(live.INCIDENTS)
    return True


def _call_attach(incident: Incident, call: Call, actor: User | None) -> None:
    if call.incident_id == incident.pk:
        return
    if call.incident_id is not None:
        raise OperationError(
            _("This call already belongs to %(ref)s.") % {"ref": call.incident},
            field="call",
            status=409,
        )
    call.incident = incident
    if not call.call_type:
        call.call_type = CallType.EMERGENCY
    call.save(update_fields=["incident", "call_type"])
    timeline_add(
        incident=incident,
        kind="call_attached",
        actor=actor,
        data={
            "call": call.pk,
            "rang_at": call.ringing_at.isoformat(),
            "aml": call.aml_lat is not None,
        },
    )


@transaction.atomic
def incident_attach_call(*, incident_id: int, call_id: int, actor: User) -> Incident:
    incident = lock_incident_not_closed(incident_id)
    call = lock_or_404(Call, call_id, "call")
    _call_attach(incident, call, actor)
    return incident


@transaction.atomic
def incident_note_add(*, incident_id: int, text: str, actor: User | None) -> Incident:
    """A note on the incident's timeline (a provincial app, a sensor, a colleague)."""
    text = (text or "").strip()
    if not text:
        raise OperationError(_("Write the note."), field="text")
    if len(text) > 2000:
        raise OperationError("The note is too long (2000 characters).", field="text")
    incident = lock_incident_not_closed(incident_id)
    timeline_add(incident=incident, kind="note", actor=actor, data={"text": text})
    logger.info("incident.note_added", extra={"incident": incident.pk})
    return incident


@transaction.atomic
def incident_close(
    *, incident_id: int, actor: User, note: str = "", confirm_undispatched: bool = False
) -> Incident:
    incident = lock_or_404(Incident, incident_id, "incident")
    if incident.status == IncidentStatus.CLOSED:
        raise OperationError(
            _("%(ref)s is already closed.") % {"ref": incident.reference}, status=409
        )
    # A critical incident nobody was ever sent to is most often a mis-click on the
    # wrong row at 3 a.m.; closing it must be a decision, stated, not an accident.
    if (incident.priority == Priority.CRITICAL and not confirm_undispatched
            and not incident.dispatches.exists()):
        raise Invalid(
            _("%(ref)s is critical and no unit was ever dispatched. Tick the confirmation "
              "to close it anyway.") % {"ref": incident.reference},
            field="confirm_undispatched", code="confirm_required",
        )
    now = timezone.now()
    for dispatch in incident.dispatches.select_for_update().filter(status__in=ACTIVE_DISPATCH):
        dispatch.status = DispatchStatus.CANCELLED
        dispatch.cancelled_at = now
        dispatch.version += 1
        dispatch.save(update_fields=["status", "cancelled_at", "version"])
        timeline_add(
            incident=incident,
            dispatch=dispatch,
            kind="cancelled",
            actor=actor,
            at=now,
            data={"agency": dispatch.agency.code},
        )
    incident_status_set(incident, IncidentStatus.CLOSED, actor, note.strip()[:2000])
    logger.info("incident.closed", extra={"incident": incident.pk})
    return incident
