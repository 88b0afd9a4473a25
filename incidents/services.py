"""Every write of 112 operations. Keyword-only, atomic, and each change of an
incident writes its timeline entry in the same transaction.

Services raise incidents.errors.OperationError for anything a person must fix;
views and GraphQL turn it into a 4xx answer. Nothing is half-saved: the
transaction rolls back with the error.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role, User
from incidents import aml
from incidents.errors import OperationError
from incidents.models import (
    ACTIVE_DISPATCH,
    INDONESIA_LAT,
    INDONESIA_LNG,
    NEXT_STATUS,
    Agency,
    AgencyMember,
    AmlReport,
    Call,
    CallState,
    CallType,
    Category,
    Dispatch,
    DispatchStatus,
    Incident,
    IncidentSettings,
    IncidentStatus,
    NumberBlock,
    Outcome,
    PbxCredential,
    PbxEvent,
    RoutingRule,
    TimelineEntry,
)
from tenants.db import current_schema

logger = logging.getLogger(__name__)

PBX_EVENTS = ("ringing", "answered", "ended")
# A ringing call nobody ended is not shown forever.
RINGING_STALE_SECONDS = 600


def _actor_name(actor: User | None) -> str:
    if actor is None:
        return "system"
    return str(actor.display_name or actor.username)


def timeline_add(
    *,
    incident: Incident,
    kind: str,
    actor: User | None,
    data: dict[str, Any] | None = None,
    dispatch: Dispatch | None = None,
    at: datetime | None = None,
    actor_name: str = "",
) -> TimelineEntry:
    return TimelineEntry.objects.create(
        incident=incident,
        dispatch=dispatch,
        kind=kind,
        actor=actor,
        actor_name=actor_name or _actor_name(actor),
        at=at or timezone.now(),
        data=data or {},
    )


# --- PBX credentials -----------------------------------------------------------------


def _hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def pbx_credential_create(
    *, name: str, actor: User | None, raw_key: str | None = None
) -> tuple[PbxCredential, str]:
    """A new PBX key; the raw key is returned once and never stored."""
    name = name.strip()
    if not name:
        raise OperationError(_("Give the PBX a name (e.g. 'IP-PBX gedung utama')."), field="name")
    if raw_key is None:
        raw_key = f"pbx_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "pbx" or not parts[1] or len(parts[2]) < 16:
        raise OperationError("A PBX key looks like pbx_<prefix>_<secret>.", field="key")
    cred = PbxCredential.objects.create(
        name=name, key_prefix=parts[1], key_hash=_hash_key(raw_key), created_by=actor
    )
    logger.info("pbx.credential_created", extra={"credential": cred.pk})
    return cred, raw_key


@transaction.atomic
def pbx_credential_revoke(*, credential_id: int, actor: User) -> PbxCredential:
    cred = PbxCredential.objects.select_for_update().filter(pk=credential_id).first()
    if cred is None:
        raise OperationError("No such PBX credential.", status=404)
    if cred.revoked_at is None:
        cred.revoked_at = timezone.now()
        cred.save(update_fields=["revoked_at"])
        logger.info("pbx.credential_revoked", extra={"credential": cred.pk, "by": actor.pk})
    return cred


def pbx_authenticate(raw_key: str) -> PbxCredential | None:
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != "pbx":
        return None
    cred = PbxCredential.objects.filter(key_prefix=parts[1], revoked_at__isnull=True).first()
    if cred is None or not hmac.compare_digest(cred.key_hash, _hash_key(raw_key)):
        return None
    now = timezone.now()
    if cred.last_used_at is None or now - cred.last_used_at > timedelta(minutes=1):
        PbxCredential.objects.filter(pk=cred.pk).update(last_used_at=now)
    return cred


# --- calls ----------------------------------------------------------------------------


def _normalize(raw: str, field_name: str) -> str:
    try:
        return aml.normalize_phone(raw)
    except aml.InvalidPhoneNumber as exc:
        raise OperationError(str(exc), field=field_name) from None


def active_block(number: str, now: datetime | None = None) -> NumberBlock | None:
    now = now or timezone.now()
    return (
        NumberBlock.objects.filter(
            number=number, lifted_at__isnull=True, blocked_from__lte=now, blocked_until__gt=now
        )
        .order_by("-blocked_until")
        .first()
    )


@dataclass
class PbxResult:
    call: Call
    duplicate: bool = False
    blocked_until: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _attach_aml(call: Call, report: AmlReport) -> None:
    call.aml_lat = report.latitude
    call.aml_lng = report.longitude
    call.aml_radius_m = report.radius_m
    call.aml_source = report.source
    call.aml_time = report.position_time
    call.save(update_fields=["aml_lat", "aml_lng", "aml_radius_m", "aml_source", "aml_time"])
    report.call = call
    report.save(update_fields=["call"])


def _location_of(report: AmlReport) -> aml.AmlLocation:
    return aml.AmlLocation(
        caller_number=report.caller or None,
        latitude=report.latitude,
        longitude=report.longitude,
        radius_m=report.radius_m,
        position_time=report.position_time,
        source=report.source,  # type: ignore[arg-type]
        confidence_pct=report.confidence_pct,
        imei=None,
        imsi=None,
        raw=report.raw,
    )


@transaction.atomic
def pbx_event_record(
    *,
    event: str,
    external_id: str,
    caller_raw: str = "",
    trunk: str = "",
    at: datetime | None = None,
    operator_username: str = "",
    is_test: bool = False,
) -> PbxResult:
    """One PBX event. The same (call, event) twice changes nothing the second time."""
    if event not in PBX_EVENTS:
        raise OperationError(
            f"event must be one of {', '.join(PBX_EVENTS)}, not {event!r}", field="event"
        )
    external_id = external_id.strip()
    if not external_id or len(external_id) > 120:
        raise OperationError("call_id is required (at most 120 characters)", field="call_id")
    at = at or timezone.now()
    caller = _normalize(caller_raw, "caller") if caller_raw else ""
    call = Call.objects.select_for_update().filter(external_id=external_id).first()
    if call is None:
        if not caller:
            raise OperationError(
                f"unknown call_id {external_id!r}: send the ringing event (with caller) first",
                field="call_id" if event != "ringing" else "caller",
                status=404 if event != "ringing" else 400,
            )
        call = Call.objects.create(
            external_id=external_id, caller=caller, trunk=trunk[:60], ringing_at=at, is_test=is_test
        )
        PbxEvent.objects.create(call=call, event="ringing", at=at)
        block = active_block(caller, at)
        if block is not None:
            NumberBlock.objects.filter(pk=block.pk).update(hits=block.hits + 1)
            call.blocked = True
            call.state = CallState.ENDED
            call.ended_at = at
            call.save(update_fields=["blocked", "state", "ended_at"])
            logger.info("call.blocked", extra={"call": call.pk, "block": block.pk})
            return PbxResult(call=call, blocked_until=block.blocked_until)
        for report in AmlReport.objects.filter(caller=caller, call__isnull=True).order_by(
            "-position_time"
        ):
            if aml.matches_call(
                _location_of(report),
                caller_number=caller,
                call_started_at=at,
                window_seconds=IncidentSettings.load().aml_window_seconds,
            ):
                _attach_aml(call, report)
                break
        logger.info("call.ringing", extra={"call": call.pk})
        if event == "ringing":
            return PbxResult(call=call)
    elif caller and caller != call.caller:
        raise OperationError(
            f"call_id {external_id!r} belongs to another caller number",
            field="caller",
            status=409,
        )
    if PbxEvent.objects.filter(call=call, event=event).exists():
        return PbxResult(call=call, duplicate=True)
    PbxEvent.objects.create(call=call, event=event, at=at)
    if event == "answered":
        if call.blocked:
            return PbxResult(call=call)
        operator = None
        if operator_username:
            operator = User.objects.filter(username=operator_username, is_active=True).first()
            if operator is None:
                raise OperationError(
                    f"no operator with username {operator_username!r} in this Pemda",
                    field="operator",
                )
        if at < call.ringing_at:
            raise OperationError("answered before it rang: check the 'at' time", field="at")
        if call.answered_at is None:
            call.answered_at = at
        call.operator = call.operator or operator
        if call.state == CallState.RINGING:
            call.state = CallState.ANSWERED
        call.save(update_fields=["answered_at", "operator", "state"])
    elif event == "ended":
        if call.ended_at is None:
            call.ended_at = at
        if call.state == CallState.RINGING:
            call.state = CallState.MISSED
        elif call.state == CallState.ANSWERED:
            call.state = CallState.ENDED
        call.save(update_fields=["ended_at", "state"])
    return PbxResult(call=call)


@transaction.atomic
def call_answer(*, call_id: int, operator: User) -> Call:
    """The call-taker takes a ringing call from the console."""
    call = Call.objects.select_for_update().filter(pk=call_id).first()
    if call is None:
        raise OperationError("No such call.", status=404)
    if call.operator_id is not None and call.operator_id != operator.pk:
        raise OperationError(
            _("This call was already taken by %(name)s.") % {"name": call.operator},
            field="call",
            status=409,
        )
    if call.state in (CallState.ENDED, CallState.MISSED):
        raise OperationError(_("The caller has already hung up."), field="call", status=409)
    call.operator = operator
    if call.answered_at is None:
        call.answered_at = max(timezone.now(), call.ringing_at)
    call.state = CallState.ANSWERED
    call.save(update_fields=["operator", "answered_at", "state"])
    logger.info("call.answered", extra={"call": call.pk, "operator": operator.pk})
    return call


@transaction.atomic
def call_classify(*, call_id: int, call_type: str, actor: User) -> tuple[Call, NumberBlock | None]:
    """Record the call's type; prank/ghost calls count towards an automatic block."""
    if call_type not in CallType.values:
        raise OperationError(f"type must be one of {', '.join(CallType.values)}", field="call_type")
    call = Call.objects.select_for_update().filter(pk=call_id).first()
    if call is None:
        raise OperationError("No such call.", status=404)
    call.call_type = call_type
    if call.operator_id is None:
        call.operator = actor
    call.save(update_fields=["call_type", "operator"])
    block = None
    if call_type in (CallType.PRANK, CallType.GHOST):
        block = _prank_check(call.caller)
    return call, block


def _prank_check(number: str) -> NumberBlock | None:
    cfg = IncidentSettings.load()
    now = timezone.now()
    if active_block(number, now) is not None:
        return None
    since = now - timedelta(hours=cfg.prank_window_hours)
    # Calls from before a lifted block do not count twice.
    last_lift = (
        NumberBlock.objects.filter(number=number, lifted_at__isnull=False)
        .order_by("-lifted_at")
        .values_list("lifted_at", flat=True)
        .first()
    )
    if last_lift is not None and last_lift > since:
        since = last_lift
    count = Call.objects.filter(
        caller=number, call_type__in=[CallType.PRANK, CallType.GHOST], ringing_at__gte=since
    ).count()
    if count < cfg.prank_threshold:
        return None
    block = NumberBlock.objects.create(
        number=number,
        blocked_from=now,
        blocked_until=now + timedelta(hours=cfg.block_hours),
        reason=f"{count} prank/ghost calls within {cfg.prank_window_hours} h",
    )
    logger.info("number.blocked", extra={"block": block.pk, "calls": count})
    return block


@transaction.atomic
def number_block_lift(*, block_id: int, actor: User) -> NumberBlock:
    block = NumberBlock.objects.select_for_update().filter(pk=block_id).first()
    if block is None:
        raise OperationError("No such block.", status=404)
    if block.lifted_at is not None:
        raise OperationError(_("This block was already lifted."), status=409)
    block.lifted_at = timezone.now()
    block.lifted_by = actor
    block.save(update_fields=["lifted_at", "lifted_by"])
    logger.info("number.unblocked", extra={"block": block.pk, "by": actor.pk})
    return block


@transaction.atomic
def aml_receive(*, location: aml.AmlLocation, channel: str) -> AmlReport:
    """Store a position and attach it to its call if that call already rang."""
    if location.caller_number is None:
        raise OperationError(
            "the AML message has no usable caller number, so it cannot be matched to a call",
            field="from" if channel == "sms" else "device_number",
        )
    if not (
        INDONESIA_LAT[0] - 1 <= location.latitude <= INDONESIA_LAT[1] + 1
        and INDONESIA_LNG[0] - 1 <= location.longitude <= INDONESIA_LNG[1] + 1
    ):
        raise OperationError("the AML position is outside Indonesia", field="latitude")
    report = AmlReport.objects.create(
        caller=location.caller_number,
        latitude=location.latitude,
        longitude=location.longitude,
        radius_m=location.radius_m,
        source=location.source,
        position_time=location.position_time,
        confidence_pct=location.confidence_pct,
        channel=channel,
        raw=location.raw,
    )
    window = IncidentSettings.load().aml_window_seconds
    earliest = location.position_time - timedelta(seconds=window)
    candidates = (
        Call.objects.select_for_update()
        .filter(
            caller=location.caller_number,
            ringing_at__gte=earliest,
            ringing_at__lte=location.position_time + timedelta(seconds=aml.FIX_LEAD_SECONDS),
        )
        .order_by("-ringing_at")
    )
    for call in candidates:
        if aml.matches_call(
            location,
            caller_number=call.caller,
            call_started_at=call.ringing_at,
            window_seconds=window,
        ):
            _attach_aml(call, report)
            logger.info("aml.attached", extra={"call": call.pk, "source": report.source})
            break
    return report


# --- incidents -------------------------------------------------------------------------


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _float(value: object, field_name: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        raise OperationError(
            _("%(field)s must be a number, not %(value)r") % {"field": field_name, "value": value},
            field=field_name,
        ) from None
    if not math.isfinite(number):
        raise OperationError(f"{field_name} must be a number", field=field_name)
    return number


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
    query = Category.objects.filter(active=True)
    category = (
        query.filter(pk=int(raw_category)).first()
        if raw_category.isdigit()
        else query.filter(code=raw_category).first()
    )
    if category is None:
        raise OperationError(
            _("Unknown category %(code)r.") % {"code": raw_category}, field="category"
        )
    lat = _float(data.latitude, "latitude")
    lng = _float(data.longitude, "longitude")
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
            raise OperationError("No such call.", field="call")
    caller = _normalize(data.caller, "caller") if (data.caller or "").strip() else ""
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


class DuplicateOffer(Exception):
    """The new incident looks like an open one: offer linking instead."""

    def __init__(self, candidates: list[Incident]) -> None:
        super().__init__("possible duplicate")
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
    from incidents.selectors import incident_duplicates

    clean = incident_validate(data)
    existing = Incident.objects.filter(idempotency_key=clean.idempotency_key).first()
    if existing is not None:
        return IncidentCreated(existing, False)
    if not force:
        candidates = incident_duplicates(
            category=clean.category,
            latitude=clean.latitude,
            longitude=clean.longitude,
            caller=clean.caller,
        )
        if candidates:
            raise DuplicateOffer(candidates)
    cfg = IncidentSettings.load()
    outside = (
        cfg.in_area(clean.latitude, clean.longitude) is False
        if clean.latitude is not None and clean.longitude is not None
        else False
    )
    now = timezone.now()
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                reference=f"TMP-{clean.idempotency_key}",
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
    except IntegrityError:
        # A concurrent double submit won the race: its incident is the one.
        return IncidentCreated(Incident.objects.get(idempotency_key=clean.idempotency_key), False)
    incident.reference = f"INC-{now:%y%m%d}-{incident.pk:05d}"
    incident.save(update_fields=["reference"])
    timeline_add(
        incident=incident,
        kind="created",
        actor=actor,
        at=now,
        data={
            "category": clean.category.code,
            "priority": incident.priority,
            "outside_area": outside,
        },
    )
    if clean.call is not None:
        _call_attach(incident, clean.call, actor)
    logger.info(
        "incident.created",
        extra={"incident": incident.pk, "category": clean.category.code, "test": is_test},
    )
    return IncidentCreated(incident, True)


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
    incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
    call = Call.objects.select_for_update().filter(pk=call_id).first()
    if incident is None or call is None:
        raise OperationError("No such incident or call.", status=404)
    if incident.status == IncidentStatus.CLOSED:
        raise OperationError(_("%(ref)s is closed.") % {"ref": incident.reference}, status=409)
    _call_attach(incident, call, actor)
    return incident


def _set_incident_status(
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
    _referral_update(incident, status, note)


# --- dispatch ---------------------------------------------------------------------------


def _notify_agency(dispatch: Dispatch) -> None:
    """Outbox rows for the agency's email and webhook, in the dispatch's transaction."""
    agency = dispatch.agency
    if not agency.email and not agency.webhook_url:
        return
    from outbox.services import outbox_enqueue

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
            payload={**payload, "text": _dispatch_email_text(dispatch)},
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


def _lock_incident_not_closed(incident_id: int) -> Incident:
    """The incident, row-locked for the rest of the transaction; 404/409 otherwise."""
    incident = (
        Incident.objects.select_for_update()
        .select_related("category")
        .filter(pk=incident_id)
        .first()
    )
    if incident is None:
        raise OperationError("No such incident.", status=404)
    if incident.status == IncidentStatus.CLOSED:
        raise OperationError(_("%(ref)s is closed.") % {"ref": incident.reference}, status=409)
    return incident


def _dispatch_email_text(dispatch: Dispatch) -> str:
    """What the OPD's duty officer reads: Indonesian, times in the Pemda's zone, a
    link to act on. No caller number: the OPD console shows what its role may see."""
    from django.utils import timezone as tz

    from tenants.models import Region, Tenant

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
        where += f" ({incident.latitude:.5f}, {incident.longitude:.5f})"
    lines = [
        f"Penugasan baru untuk {dispatch.agency.name}",
        "",
        f"Kejadian : {incident.reference} - {incident.category.name} (P{incident.priority})",
        f"Lokasi   : {where}",
        f"Uraian   : {incident.description or '-'}",
        f"Diteruskan: {tz.localtime(dispatch.dispatched_at, zone):%d-%m-%Y %H:%M} "
        f"{Region.TimeZone(zone_name).label}",
        "",
        f"Terima dan perbarui status di konsol OPD: {link}",
    ]
    return "\n".join(lines)


def _agencies(agency_ids: list[Any]) -> list[Agency]:
    if not agency_ids:
        raise OperationError(_("Choose at least one agency."), field="agency")
    agencies = []
    for raw in agency_ids:
        text = str(raw).strip()
        agency = (
            Agency.objects.filter(pk=int(text), active=True).first() if text.isdigit() else None
        )
        if agency is None:
            raise OperationError(
                _("Agency %(id)r does not exist in this Pemda (or is inactive).") % {"id": text},
                field="agency",
            )
        agencies.append(agency)
    return agencies


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
    incident = _lock_incident_not_closed(incident_id)
    dispatches = [_dispatch_one(incident, agency, actor) for agency in _agencies(agency_ids)]
    _set_incident_status(incident, IncidentStatus.DISPATCHED, actor)
    return dispatches


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
    actor: User,
    expected_version: int | None = None,
    outcome: str = "",
    note: str = "",
) -> Dispatch:
    """The responder's next step: acknowledge -> depart -> arrive -> resolve."""
    if to_status not in STATUS_FIELD:
        raise OperationError(
            f"status must be one of {', '.join(STATUS_FIELD)}, not {to_status!r}", field="status"
        )
    dispatch = (
        Dispatch.objects.select_for_update()
        .select_related("incident", "agency")
        .filter(pk=dispatch_id)
        .first()
    )
    if dispatch is None:
        raise OperationError("No such dispatch.", status=404)
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
        _set_incident_status(incident, IncidentStatus.RESOLVED, actor, dispatch.note)
    else:
        _referral_update(incident, f"dispatch_{to_status}", f"{dispatch.agency.name}: {to_status}")
    return dispatch


@transaction.atomic
def dispatch_reassign(*, dispatch_id: int, agency_id: Any, actor: User) -> Dispatch:
    """Supervisor: cancel one agency's dispatch and hand the incident to another."""
    old = (
        Dispatch.objects.select_for_update()
        .select_related("incident", "agency")
        .filter(pk=dispatch_id)
        .first()
    )
    if old is None:
        raise OperationError("No such dispatch.", status=404)
    if old.status not in ACTIVE_DISPATCH:
        raise OperationError(f"This dispatch is already {old.status}.", status=409)
    (agency,) = _agencies([agency_id])
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
    _set_incident_status(old.incident, IncidentStatus.DISPATCHED, actor)
    return new


@transaction.atomic
def incident_close(*, incident_id: int, actor: User, note: str = "") -> Incident:
    incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
    if incident is None:
        raise OperationError("No such incident.", status=404)
    if incident.status == IncidentStatus.CLOSED:
        raise OperationError(
            _("%(ref)s is already closed.") % {"ref": incident.reference}, status=409
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
    _set_incident_status(incident, IncidentStatus.CLOSED, actor, note.strip()[:2000])
    logger.info("incident.closed", extra={"incident": incident.pk})
    return incident


def dispatch_overdue_reason(dispatch: Dispatch, category: Category, now: datetime) -> str:
    if dispatch.status not in ACTIVE_DISPATCH:
        return ""
    if dispatch.status == DispatchStatus.PENDING and now > dispatch.dispatched_at + timedelta(
        minutes=category.ack_target_minutes
    ):
        return "ack"
    if dispatch.arrived_at is None and now > dispatch.dispatched_at + timedelta(
        minutes=category.arrive_target_minutes
    ):
        return "arrive"
    return ""


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
        if not reason or reason == dispatch.escalation_reason:
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


# --- cross-Pemda referral -----------------------------------------------------------------


# Local status -> the referral status the other side sees.
_REFERRAL_STATUS = {
    IncidentStatus.DISPATCHED: "in_progress",
    IncidentStatus.RESOLVED: "resolved",
    IncidentStatus.CLOSED: "closed",
}


def _referral_update(incident: Incident, status: str, note: str) -> None:
    """Tell the other Pemda about a change on a referred incident (a public message).

    The local change never fails because of the exchange: an update the referral
    refuses (not accepted yet, already final, a phone number in the note) is
    skipped in its own savepoint and logged."""
    if incident.referral_out_id is None and incident.referral_in_id is None:
        return
    from django.core.exceptions import ValidationError

    from referrals.services import referral_post_update

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


def _referral_error(exc: Exception) -> OperationError:
    messages = getattr(exc, "messages", None) or [str(exc)]
    return OperationError(" ".join(str(m) for m in messages), field="referral")


@transaction.atomic
def incident_refer(*, incident_id: int, to_schema: str, actor: User) -> Incident:
    from referrals.selectors import neighbour_tenants
    from referrals.services import referral_send

    incident = _lock_incident_not_closed(incident_id)
    if incident.referral_out_id is not None:
        raise OperationError(
            _("%(ref)s was already referred.") % {"ref": incident.reference}, status=409
        )
    schema = current_schema()
    neighbours = {t.schema_name: t for t in neighbour_tenants(schema)}
    target = neighbours.get(to_schema)
    if target is None:
        raise OperationError(_("Choose a neighbouring Pemda on Siaga112."), field="to_schema")
    from django.core.exceptions import ValidationError

    try:
        referral = referral_send(
            from_schema=schema,
            to_schema=to_schema,
            source_incident_id=incident.pk,
            payload={
                # No reference number: digit runs read as phone numbers to the
                # exchange's caller-data guard; the receiver sees the source id.
                "category": incident.category.code,
                "lat": incident.latitude,
                "lng": incident.longitude,
                "address": incident.address,
                "kecamatan": incident.kecamatan,
                "kelurahan": incident.kelurahan,
                "description": incident.description,
                "priority": incident.priority,
            },
            actor_name=_actor_name(actor),
        )
    except ValidationError as exc:
        raise _referral_error(exc) from None
    incident.referral_out_id = referral.pk
    incident.save(update_fields=["referral_out_id"])
    timeline_add(
        incident=incident,
        kind="referred",
        actor=actor,
        data={"to": to_schema, "to_name": str(target), "referral": referral.pk},
    )
    logger.info("incident.referred", extra={"incident": incident.pk, "to": to_schema})
    return incident


@transaction.atomic
def referral_incident_accept(*, referral_id: int, actor: User, is_test: bool) -> Incident:
    """Accept a neighbour's referral: a local incident with the referral in its timeline."""
    from referrals.selectors import inbox_for
    from referrals.services import referral_accept

    schema = current_schema()
    referral = inbox_for(schema).filter(pk=referral_id).first()
    if referral is None:
        raise OperationError("No such referral for this Pemda.", status=404)
    if referral.target_incident_id is not None:
        raise OperationError(_("This referral was already accepted."), status=409)
    payload: dict[str, Any] = dict(referral.payload or {})
    code = str(payload.get("category") or "other")
    category = Category.objects.filter(code=code).first() or Category.objects.get(code="other")
    lat, lng = payload.get("lat"), payload.get("lng")
    result = incident_create(
        data=IncidentInput(
            category=category.code,
            description=str(payload.get("description") or "(rujukan)"),
            latitude=lat,
            longitude=lng,
            address=str(payload.get("address") or "(lihat rujukan)"),
            kecamatan=str(payload.get("kecamatan") or ""),
            kelurahan=str(payload.get("kelurahan") or ""),
            idempotency_key=f"referral-{referral_id}",
        ),
        actor=actor,
        is_test=is_test,
        force=True,
    )
    incident = result.incident
    incident.referral_in_id = referral_id
    incident.save(update_fields=["referral_in_id"])
    timeline_add(
        incident=incident,
        kind="referral_received",
        actor=actor,
        data={
            "from": referral.from_schema,
            "reference": payload.get("reference", ""),
            "referral": referral_id,
        },
    )
    from django.core.exceptions import ValidationError

    try:
        referral_accept(referral_id=referral_id, to_schema=schema, local_incident_id=incident.pk)
    except ValidationError as exc:
        raise _referral_error(exc) from None
    return incident


@transaction.atomic
def referral_incident_decline(*, referral_id: int, actor: User, reason: str) -> None:
    """Decline a neighbour's referral (with a reason the sender sees)."""
    from django.core.exceptions import ValidationError

    from referrals.selectors import inbox_for
    from referrals.services import referral_decline

    schema = current_schema()
    if not inbox_for(schema).filter(pk=referral_id).exists():
        raise OperationError(_("No such referral for this Pemda."), status=404)
    try:
        referral_decline(referral_id=referral_id, to_schema=schema, reason=reason)
    except ValidationError as exc:
        raise _referral_error(exc) from None
    logger.info("referral.declined_here", extra={"referral": referral_id, "by": actor.pk})


# --- Pemda admin --------------------------------------------------------------------------


@transaction.atomic
def category_update(
    *,
    category_id: int,
    actor: User,
    name: str,
    priority: Any,
    ack_target_minutes: Any,
    arrive_target_minutes: Any,
    active: bool,
) -> Category:
    category = Category.objects.select_for_update().filter(pk=category_id).first()
    if category is None:
        raise OperationError("No such category.", status=404)
    try:
        prio = int(priority)
        ack = int(ack_target_minutes)
        arrive = int(arrive_target_minutes)
    except (TypeError, ValueError):
        raise OperationError(
            "Priority and targets must be whole numbers.", field="priority"
        ) from None
    if prio not in (1, 2, 3, 4):
        raise OperationError("Priority is 1 (critical) to 4 (low).", field="priority")
    if not 1 <= ack <= 1440 or not 1 <= arrive <= 1440:
        raise OperationError("Targets are 1 to 1440 minutes.", field="ack_target_minutes")
    if arrive < ack:
        raise OperationError(
            _("The arrival target cannot be shorter than the acknowledge target."),
            field="arrive_target_minutes",
        )
    category.name = name.strip()[:120] or category.name
    category.priority = prio
    category.ack_target_minutes = ack
    category.arrive_target_minutes = arrive
    category.active = active
    category.save()
    logger.info("category.updated", extra={"category": category.code, "by": actor.pk})
    return category


@transaction.atomic
def agency_save(
    *,
    actor: User,
    agency_id: int | None,
    code: str,
    name: str,
    kind: str,
    email: str,
    webhook_url: str,
    webhook_secret: str | None,
    active: bool,
) -> Agency:
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator, validate_email

    agency = Agency() if agency_id is None else Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise OperationError("No such agency.", status=404)
    if agency_id is None:
        code = code.strip().lower()
        if not code or not code.replace("_", "").replace("-", "").isalnum():
            raise OperationError("Code: letters, digits, '-' or '_'.", field="code")
        if Agency.objects.filter(code=code).exists():
            raise OperationError(f"An agency with code {code!r} exists.", field="code")
        agency.code = code
    if not name.strip():
        raise OperationError("Give the agency a name.", field="name")
    if kind not in Agency.Kind.values:
        raise OperationError("Unknown kind.", field="kind")
    try:
        if email.strip():
            validate_email(email.strip())
    except ValidationError:
        raise OperationError(f"{email!r} is not an email address.", field="email") from None
    try:
        if webhook_url.strip():
            URLValidator(schemes=["https", "http"])(webhook_url.strip())
    except ValidationError:
        raise OperationError("The webhook URL is not a valid URL.", field="webhook_url") from None
    agency.name = name.strip()[:160]
    agency.kind = kind
    agency.email = email.strip()
    agency.webhook_url = webhook_url.strip()
    if webhook_secret is not None:
        agency.webhook_secret = webhook_secret
    elif agency.webhook_url and not agency.webhook_secret:
        agency.webhook_secret = secrets.token_urlsafe(32)
    agency.active = active
    agency.save()
    logger.info("agency.saved", extra={"agency": agency.code, "by": actor.pk})
    return agency


@transaction.atomic
def routing_rules_set(*, category_id: int, agency_ids: list[Any], actor: User) -> list[RoutingRule]:
    category = Category.objects.filter(pk=category_id).first()
    if category is None:
        raise OperationError("No such category.", status=404)
    agencies = _agencies(agency_ids) if agency_ids else []
    RoutingRule.objects.filter(category=category).delete()
    rules = [
        RoutingRule.objects.create(category=category, agency=agency, order=i)
        for i, agency in enumerate(dict.fromkeys(agencies), start=1)
    ]
    logger.info("routing.updated", extra={"category": category.code, "by": actor.pk})
    return rules


TENANT_ROLE_VALUES = (
    Role.CALL_TAKER,
    Role.SUPERVISOR,
    Role.OPD_RESPONDER,
    Role.PEMDA_ADMIN,
    Role.VIEWER,
)


@transaction.atomic
def staff_save(
    *,
    actor: User,
    user_id: int | None,
    username: str,
    display_name: str,
    role: str,
    agency_id: Any = None,
    password: str = "",
    active: bool = True,
) -> User:
    """Create or change a member of this Pemda's staff (role, responder agency)."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    if role not in TENANT_ROLE_VALUES:
        raise OperationError(_("Choose a role of the call center."), field="role")
    if user_id is None:
        username = username.strip()
        if not username or User.objects.filter(username=username).exists():
            raise OperationError(_("Choose a new, unused username."), field="username")
        user = User(username=username)
        if not password:
            raise OperationError(_("Set a first password."), field="password")
    else:
        found = User.objects.filter(pk=user_id).first()
        if found is None:
            raise OperationError("No such user.", status=404)
        user = found
        if user.pk == actor.pk and (role != user.role or not active):
            raise OperationError(
                _("You cannot change your own role or deactivate yourself."),
                field="role",
                status=409,
            )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise OperationError(" ".join(exc.messages), field="password") from None
        user.set_password(password)
    agency = None
    if role == Role.OPD_RESPONDER:
        (agency,) = _agencies([agency_id]) if agency_id not in (None, "") else (None,)
        if agency is None:
            raise OperationError(_("An OPD responder belongs to one agency."), field="agency")
    user.display_name = display_name.strip()[:120]
    user.role = role
    user.is_active = active
    user.save()
    if agency is not None:
        AgencyMember.objects.update_or_create(user=user, defaults={"agency": agency})
    else:
        AgencyMember.objects.filter(user=user).delete()
    logger.info("staff.saved", extra={"user": user.pk, "role": role, "by": actor.pk})
    return user


@transaction.atomic
def settings_update(*, actor: User, values: dict[str, Any]) -> IncidentSettings:
    cfg = IncidentSettings.load()
    ints = (
        "prank_threshold",
        "prank_window_hours",
        "block_hours",
        "duplicate_radius_m",
        "duplicate_window_minutes",
    )
    for name in ints:
        if name in values:
            try:
                number = int(values[name])
            except (TypeError, ValueError):
                raise OperationError(f"{name} must be a whole number.", field=name) from None
            if number < 1:
                raise OperationError(f"{name} must be at least 1.", field=name)
            setattr(cfg, name, number)
    box = ("area_min_lat", "area_max_lat", "area_min_lng", "area_max_lng")
    parsed = {name: _float(values.get(name), name) for name in box if name in values}
    for name, value in parsed.items():
        setattr(cfg, name, value)
    if all(getattr(cfg, n) is not None for n in box) and (
        cfg.area_min_lat > cfg.area_max_lat or cfg.area_min_lng > cfg.area_max_lng  # type: ignore[operator]
    ):
        raise OperationError("The area's minimum must be below its maximum.", field="area_min_lat")
    cfg.save()
    logger.info("incident_settings.updated", extra={"by": actor.pk})
    return cfg
