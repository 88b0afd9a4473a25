"""Calls from the PBX and the console, AML positions, and number blocks for
repeated prank/ghost calls."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from audit.services import tracking
from core.rows import insert_columns
from core.rules import in_indonesia, plausible_time
from incidents import aml, live
from incidents.errors import OperationError
from incidents.models import (
    AmlReport,
    Call,
    CallState,
    CallType,
    IncidentSettings,
    NumberBlock,
    PbxEvent,
)
from incidents.selectors import active_block
from incidents.services.common import lock_or_404, normalize_phone_field

logger = logging.getLogger(__name__)

PBX_EVENTS = ("ringing", "answered", "ended")


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



def _ring_new_call(
    *, external_id: str, caller: str, trunk: str, at: datetime, is_test: bool
) -> PbxResult | None:
    """A ringing event for a new call id in ONE statement, in autocommit (no BEGIN,
    no COMMIT): the block check, the call row (ended and marked blocked if a block
    stands), its ringing event row, the block's hit count, and whether an AML
    position waits for this number. The ORM path took seven round trips for this.

    None when the call id exists (INSERT … ON CONFLICT DO NOTHING wrote nothing):
    the caller takes the general path, which answers duplicates and conflicts.
    """
    q = connection.ops.quote_name
    call = Call(external_id=external_id, caller=caller, trunk=trunk[:60], ringing_at=at,
                is_test=is_test)
    columns, values = insert_columns(Call, call, {"state", "blocked", "ended_at"})
    event = PbxEvent(event="ringing", at=at)
    event_columns, event_values = insert_columns(PbxEvent, event, {"call_id"})
    block, aml_report = NumberBlock._meta, AmlReport._meta
    # Only model metadata (table and column names, quoted) is formatted in; every
    # value travels as a parameter.
    sql = f"""
WITH blk AS (
    SELECT id, blocked_until FROM {q(block.db_table)}
    WHERE number = %s AND lifted_at IS NULL AND blocked_from <= %s AND blocked_until > %s
    ORDER BY blocked_until DESC LIMIT 1
), new_call AS (
    INSERT INTO {q(Call._meta.db_table)} ({", ".join(columns)}, state, blocked, ended_at)
    VALUES ({", ".join(["%s"] * len(values))},
            CASE WHEN (SELECT id FROM blk) IS NULL THEN %s ELSE %s END,
            (SELECT id FROM blk) IS NOT NULL,
            CASE WHEN (SELECT id FROM blk) IS NULL THEN NULL ELSE %s::timestamptz END)
    ON CONFLICT (external_id) DO NOTHING
    RETURNING id, state, blocked, ended_at
), new_event AS (
    INSERT INTO {q(PbxEvent._meta.db_table)} (call_id, {", ".join(event_columns)})
    SELECT id, {", ".join(["%s"] * len(event_values))} FROM new_call
), block_hit AS (
    UPDATE {q(block.db_table)} SET hits = hits + 1
    WHERE id = (SELECT id FROM blk) AND EXISTS (SELECT 1 FROM new_call)
)
SELECT new_call.id, new_call.state, new_call.blocked, new_call.ended_at,
       (SELECT id FROM blk), (SELECT blocked_until FROM blk),
       EXISTS (SELECT 1 FROM {q(aml_report.db_table)} WHERE caller = %s AND call_id IS NULL)
FROM new_call
"""  # noqa: S608
    params = [caller, at, at, *values, CallState.RINGING, CallState.ENDED, at, *event_values,
              caller]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    call_pk, call.state, call.blocked, call.ended_at, block_pk, blocked_until, aml_waits = row
    call.pk = call_pk
    call._state.adding = False
    call._state.db = "default"
    # No save() ran, so no signal: tell the consoles ourselves (autocommit: at once).
    live.changed(live.CALLS)
    if block_pk is not None:
        logger.info("call.blocked", extra={"call": call.pk, "block": block_pk})
        return PbxResult(call=call, blocked_until=blocked_until)
    if aml_waits:
        # Rare (a handset sent its position before the PBX rang): the ORM path.
        with transaction.atomic():
            call = Call.objects.select_for_update().get(pk=call.pk)
            _attach_waiting_aml(call, caller, at)
    logger.info("call.ringing", extra={"call": call.pk})
    return PbxResult(call=call)


def _attach_waiting_aml(call: Call, caller: str, at: datetime) -> None:
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
    if at is not None and not plausible_time(at):
        # The API checks this too; a service caller (pbx_simulate, a script) must not
        # reach the window arithmetic below with a year-0001 time either.
        raise OperationError("'at' is outside the plausible years", field="at")
    at = at or timezone.now()
    caller = normalize_phone_field(caller_raw, "caller") if caller_raw else ""
    if event == "ringing" and caller:
        rung = _ring_new_call(
            external_id=external_id, caller=caller, trunk=trunk, at=at, is_test=is_test
        )
        if rung is not None:
            return rung
        # The call id exists already (a PBX retry, or another caller's id): as below.
    with transaction.atomic():
        return _pbx_event_locked(
            event=event, external_id=external_id, caller=caller, trunk=trunk, at=at,
            operator_username=operator_username, is_test=is_test,
        )


def _pbx_event_locked(
    *,
    event: str,
    external_id: str,
    caller: str,
    trunk: str,
    at: datetime,
    operator_username: str,
    is_test: bool,
) -> PbxResult:
    """Any event, the call row locked: the general path (and the one a ringing event
    for a call id that already exists takes)."""
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
        _attach_waiting_aml(call, caller, at)
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
        # A call the ring timeout marked missed (ended_at still empty) that the PBX then
        # reports answered was answered: counting it both answered and missed would
        # skew the Pemda's KPIs.
        if call.state == CallState.RINGING or (
                call.state == CallState.MISSED and call.ended_at is None):
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
    call = lock_or_404(Call, call_id, "call")
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
    call = lock_or_404(Call, call_id, "call")
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
    block = lock_or_404(NumberBlock, block_id, "block")
    if block.lifted_at is not None:
        raise OperationError(_("This block was already lifted."), status=409)
    with tracking(actor=actor, action="block.lifted", target=block, fields=["lifted_at"]):
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
    if not plausible_time(location.position_time):
        raise OperationError(
            "the AML position time is outside the plausible years",
            field="top" if channel == "sms" else "location_time",
        )
    # A degree of slack: a handset's fix off the coast is still a caller in Indonesia.
    if not in_indonesia(location.latitude, location.longitude, margin=1.0):
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


@transaction.atomic
def calls_mark_missed(*, now: datetime | None = None) -> int:
    """Calls that rang unanswered longer than the Pemda's ring timeout become missed
    (the PBX never sent `ended`, or it was lost): the ringing list stays bounded and the
    KPIs count them as missed (reporting.kpis counts state 'missed'). ended_at stays
    empty: nobody knows when the caller hung up; a late `ended` event still sets it."""
    now = now or timezone.now()
    limit = IncidentSettings.load().ring_timeout_seconds
    count = Call.objects.filter(
        state=CallState.RINGING, ringing_at__lt=now - timedelta(seconds=limit)
    ).update(state=CallState.MISSED)
    if count:
        # update() sends no signal: the consoles' counter is bumped here.
        live.changed(live.CALLS)
        logger.info("call.missed_by_timeout", extra={"count": count, "limit": limit})
    return count
