"""Reads shared by the consoles, the JSON endpoints and GraphQL."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core.rows import from_row, select_list
from core.rules import InvalidPhoneNumber, distance_m, mask_phone, overdue_reason
from incidents.models import (
    ACTIVE_DISPATCH,
    OPEN_STATUSES,
    Agency,
    AgencyMember,
    Call,
    CallState,
    CallType,
    Category,
    Dispatch,
    DispatchStatus,
    HandoverNote,
    Incident,
    IncidentSettings,
    NumberBlock,
    PbxCredential,
    RoutingRule,
)

# A ringing call nobody ended is not shown forever.
RINGING_STALE_SECONDS = 600
# What one console fragment lists at most (one page): a flood of calls or incidents
# must not make every poll of every console heavier.
RINGING_PAGE = 25
INCIDENTS_PAGE = 50
DISPATCHES_PAGE = 50
HANDOVER_OPEN_LIMIT = 200


@dataclass
class Page:
    """One page of a console list. The total is counted only when there is more than
    one page: on a quiet day a poll costs no COUNT."""

    rows: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def hidden(self) -> int:
        """Rows on the other pages."""
        return self.total - len(self.rows)


def page_number(raw: object) -> int:
    try:
        return max(1, int(str(raw)))
    except (TypeError, ValueError):
        return 1


def page_of(query: QuerySet[Any], number: int, per_page: int) -> Page:
    number = max(1, number)
    offset = (number - 1) * per_page
    rows = list(query[offset : offset + per_page + 1])
    if number == 1 and len(rows) <= per_page:
        return Page(rows=rows, number=1, per_page=per_page, total=len(rows))
    total = query.count()
    if not rows and total:
        # Past the end (the list shrank while paging): the last page instead.
        return page_of(query, math.ceil(total / per_page), per_page)
    return Page(rows=rows[:per_page], number=number, per_page=per_page, total=total)


def dispatch_overdue_reason(dispatch: Dispatch, category: Category, now: datetime) -> str:
    """"ack", "arrive" or "": the category's targets applied to this dispatch."""
    return overdue_reason(
        active=dispatch.status in ACTIVE_DISPATCH,
        acknowledged=dispatch.status != DispatchStatus.PENDING,
        arrived=dispatch.arrived_at is not None,
        dispatched_at=dispatch.dispatched_at,
        ack_target_minutes=category.ack_target_minutes,
        arrive_target_minutes=category.arrive_target_minutes,
        now=now,
    )


def active_block(number: str, now: datetime | None = None) -> NumberBlock | None:
    """The block that stops calls from `number` now, if any."""
    now = now or timezone.now()
    return (
        NumberBlock.objects.filter(
            number=number, lifted_at__isnull=True, blocked_from__lte=now, blocked_until__gt=now
        )
        .order_by("-blocked_until")
        .first()
    )


def ringing_calls(now: datetime | None = None) -> QuerySet[Call]:
    now = now or timezone.now()
    return Call.objects.filter(
        state=CallState.RINGING,
        blocked=False,
        ringing_at__gte=now - timedelta(seconds=RINGING_STALE_SECONDS),
    ).order_by("ringing_at")


def ringing_page(number: int, now: datetime | None = None) -> Page:
    """The ringing calls, oldest first (the next to answer on top), one page."""
    return page_of(ringing_calls(now), number, RINGING_PAGE)


def my_active_calls(user: Any) -> QuerySet[Call]:
    return (
        Call.objects.filter(operator=user, incident__isnull=True, call_type="")
        .exclude(state=CallState.MISSED)
        .order_by("-ringing_at")[:5]
    )  # type: ignore[return-value]


def open_incidents(visible: QuerySet[Incident] | None = None) -> QuerySet[Incident]:
    """Open incidents, most urgent first; `visible` (from policies, with its dispatches
    already prefetched) narrows them to what one user may see."""
    if visible is None:
        visible = Incident.objects.prefetch_related("dispatches__agency")
    return (
        visible.filter(status__in=OPEN_STATUSES)
        .select_related("category")
        .order_by("priority", "-created_at")
    )


def incident_by_key_or_duplicates(
    *,
    idempotency_key: str | None,
    category: Category | None,
    latitude: float | None,
    longitude: float | None,
    caller: str,
    now: datetime | None = None,
    cfg: IncidentSettings | None = None,
) -> tuple[Incident | None, list[Incident]]:
    """The incident an idempotency key already made, and the open incidents a new one
    may duplicate (category None: not looked for), in ONE statement.

    Every incident created asks both; as two ORM queries their SQL compilation was a
    fifth of the request's CPU (tests/perf/cpu_intake). Each half keeps its own index
    (unique idempotency key; caller, or category with created_at), hence UNION ALL
    rather than one OR."""
    cfg = cfg or IncidentSettings.load()
    now = now or timezone.now()
    since = now - timedelta(minutes=cfg.duplicate_window_minutes)
    near = category is not None and latitude is not None and longitude is not None
    if near:
        assert latitude is not None and longitude is not None
        # A coarse box first (1 degree of latitude ~ 111 km), then the exact distance.
        dlat = cfg.duplicate_radius_m / 111_000
        dlng = dlat / max(math.cos(math.radians(latitude)), 0.01)
        box: list[float | None] = [latitude - dlat, latitude + dlat,
                                   longitude - dlng, longitude + dlng]
    else:
        box = [None, None, None, None]
    table = connection.ops.quote_name(Incident._meta.db_table)
    columns = select_list(Incident)
    # Only the table and column names are formatted in; every value travels as a parameter.
    sql = f"""
(SELECT {columns}, true AS same_key FROM {table} WHERE idempotency_key = %s LIMIT 1)
UNION ALL
(SELECT {columns}, false FROM {table}
 WHERE %s AND status = ANY(%s) AND created_at >= %s
   AND (caller = %s OR (category_id = %s AND latitude BETWEEN %s AND %s
                        AND longitude BETWEEN %s AND %s)))
"""  # noqa: S608
    params = [idempotency_key, category is not None or bool(caller), list(OPEN_STATUSES),
              since, caller or None, category.pk if near and category else None, *box]
    existing: Incident | None = None
    found: dict[int, Incident] = {}
    # A plain cursor, not raw(): the answer is nearly always no row, and RawQuerySet's
    # column mapping cost more than the statement (cpu_intake profile).
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    for row in rows:
        incident = from_row(Incident, row)
        if row[-1]:  # same_key
            existing = incident
        elif caller and incident.caller == caller:
            found[incident.pk] = incident
        elif near and incident.latitude is not None and incident.longitude is not None:
            assert latitude is not None and longitude is not None
            if distance_m(latitude, longitude, incident.latitude, incident.longitude) <= (
                cfg.duplicate_radius_m
            ):
                found[incident.pk] = incident
    return existing, sorted(found.values(), key=lambda i: i.created_at, reverse=True)


def routing_suggestion(category: Category) -> list[Agency]:
    return [
        rule.agency
        for rule in RoutingRule.objects.filter(category=category, agency__active=True)
        .select_related("agency")
        .order_by("order")
    ]


def caller_history(caller: str, *, exclude_call: int | None = None) -> dict[str, Any]:
    """The caller's earlier calls and incidents (for the call-taker)."""
    if not caller:
        return {"calls": [], "incidents": [], "pranks": 0}
    calls = Call.objects.filter(caller=caller).order_by("-ringing_at")
    if exclude_call is not None:
        calls = calls.exclude(pk=exclude_call)
    return {
        "calls": list(calls.select_related("incident")[:10]),
        "incidents": list(
            Incident.objects.filter(caller=caller)
            .select_related("category")
            .order_by("-created_at")[:10]
        ),
        "pranks": calls.filter(call_type__in=[CallType.PRANK, CallType.GHOST]).count(),
    }


@dataclass
class DispatchRow:
    dispatch: Dispatch
    overdue: str  # "", "ack", "arrive"
    elapsed_seconds: int

    @property
    def red(self) -> bool:
        return bool(self.overdue)


def dispatch_page(dispatches: QuerySet[Dispatch], number: int) -> Page:
    """One page of dispatches as console rows."""
    page = page_of(dispatches.select_related("incident__category", "agency"), number,
                   DISPATCHES_PAGE)
    page.rows = dispatch_rows(page.rows)
    return page


def dispatch_rows(
    dispatches: QuerySet[Dispatch] | list[Dispatch], now: datetime | None = None
) -> list[DispatchRow]:
    now = now or timezone.now()
    rows = []
    if isinstance(dispatches, QuerySet):
        dispatches = list(dispatches.select_related("incident__category", "agency"))
    for d in dispatches:
        rows.append(
            DispatchRow(
                dispatch=d,
                overdue=dispatch_overdue_reason(d, d.incident.category, now),
                elapsed_seconds=int((now - d.dispatched_at).total_seconds()),
            )
        )
    return rows


def active_dispatches_for(agency: Agency) -> QuerySet[Dispatch]:
    return Dispatch.objects.filter(agency=agency, status__in=ACTIVE_DISPATCH).order_by(
        "incident__priority", "dispatched_at"
    )


def recent_resolved_for(agency: Agency, hours: int = 12) -> QuerySet[Dispatch]:
    since = timezone.now() - timedelta(hours=hours)
    return (
        Dispatch.objects.filter(
            agency=agency, status=DispatchStatus.RESOLVED, resolved_at__gte=since
        )
        .select_related("incident__category")
        .order_by("-resolved_at")
    )


def incident_is_overdue(incident: Incident, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return any(
        dispatch_overdue_reason(d, incident.category, now) for d in incident.dispatches.all()
    )


def incident_open_rows(
    visible: QuerySet[Incident] | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    return incident_rows(open_incidents(visible), now)


def incident_open_page(
    visible: QuerySet[Incident], number: int, now: datetime | None = None
) -> Page:
    """One page of the open incidents a user may see, as console rows."""
    page = page_of(open_incidents(visible), number, INCIDENTS_PAGE)
    page.rows = incident_rows(page.rows, now)
    return page


def incident_rows(
    incidents: Iterable[Incident], now: datetime | None = None
) -> list[dict[str, Any]]:
    now = now or timezone.now()
    rows = []
    for incident in incidents:
        dispatches = list(incident.dispatches.all())
        rows.append(
            {
                "incident": incident,
                "age_seconds": int((now - incident.created_at).total_seconds()),
                "overdue": any(
                    dispatch_overdue_reason(d, incident.category, now) for d in dispatches
                ),
                "dispatches": [d for d in dispatches if d.status != DispatchStatus.CANCELLED],
                "escalated": any(
                    d.escalated_at is not None and d.status in ACTIVE_DISPATCH for d in dispatches
                ),
            }
        )
    return rows


def active_blocks(now: datetime | None = None) -> QuerySet[NumberBlock]:
    now = now or timezone.now()
    return NumberBlock.objects.filter(lifted_at__isnull=True, blocked_until__gt=now)


def escalated_dispatches() -> QuerySet[Dispatch]:
    return (
        Dispatch.objects.filter(escalated_at__isnull=False, status__in=ACTIVE_DISPATCH)
        .select_related("incident__category", "agency")
        .order_by("escalated_at")
    )


def handover_summary(hours: int, now: datetime | None = None) -> dict[str, Any]:
    """What the next shift needs to know about the last `hours` hours. The figures leave
    out what was marked test (calls and incidents taken while the Pemda is in trial), as
    every KPI does; the list of open incidents is operational and keeps them."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    calls = Call.objects.filter(ringing_at__gte=since, is_test=False)
    by_type = dict(
        calls.values_list("call_type").annotate(n=Count("id")).values_list("call_type", "n")
    )
    created = Incident.objects.filter(created_at__gte=since, is_test=False)
    dispatched = Dispatch.objects.filter(dispatched_at__gte=since, incident__is_test=False)
    ack_secs = [
        (d.acknowledged_at - d.dispatched_at).total_seconds()
        for d in dispatched.filter(acknowledged_at__isnull=False)
        if d.acknowledged_at is not None
    ]
    arrive_secs = [
        (d.arrived_at - d.dispatched_at).total_seconds()
        for d in dispatched.filter(arrived_at__isnull=False)
        if d.arrived_at is not None
    ]
    return {
        "hours": hours,
        "since": since,
        "calls_total": calls.count(),
        "calls_by_type": {t or "unclassified": n for t, n in by_type.items()},
        "calls_missed": calls.filter(state=CallState.MISSED).count(),
        "calls_blocked": calls.filter(blocked=True).count(),
        "incidents_created": created.count(),
        "incidents_closed": Incident.objects.filter(closed_at__gte=since, is_test=False).count(),
        # Bounded: after a disaster the open list can run to thousands.
        "incidents_open": list(open_incidents()[:HANDOVER_OPEN_LIMIT]),
        "incidents_open_total": open_incidents().count(),
        "by_category": list(
            created.values("category__name").annotate(n=Count("id")).order_by("-n")
        ),
        "escalations": Dispatch.objects.filter(
            escalated_at__gte=since, incident__is_test=False
        ).count(),
        "median_ack_seconds": _median(ack_secs),
        "median_arrive_seconds": _median(arrive_secs),
        "blocks_new": NumberBlock.objects.filter(blocked_from__gte=since).count(),
        "by_operator": _by_operator(calls),
    }


def _by_operator(calls: QuerySet[Call]) -> list[dict[str, Any]]:
    """Per call-taker in the window: calls answered and the median ring-to-answer time,
    busiest first (who carried the shift, who may need relief)."""
    per: dict[str, list[float]] = {}
    answered = calls.filter(operator__isnull=False, answered_at__isnull=False).values_list(
        "operator__display_name", "operator__username", "ringing_at", "answered_at")
    for display, username, rang, answered_at in answered:
        if answered_at is not None:
            per.setdefault(display or username, []).append((answered_at - rang).total_seconds())
    rows = [{"operator": name, "answered": len(secs), "median_answer_seconds": _median(secs)}
            for name, secs in per.items()]
    return sorted(rows, key=lambda r: (-r["answered"], r["operator"]))


def handover_notes(limit: int = 20) -> list[HandoverNote]:
    return list(HandoverNote.objects.all()[:limit])


def _median(values: list[float]) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    value = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return int(value)


def dashboard_figures(now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    day = handover_summary(24, now)
    week_since = now - timedelta(days=7)
    calls_week = Call.objects.filter(ringing_at__gte=week_since, is_test=False)
    total = calls_week.count()
    pranks = calls_week.filter(call_type__in=[CallType.PRANK, CallType.GHOST]).count()
    return {
        **day,
        "calls_week": total,
        "prank_share_week": round(100 * pranks / total) if total else 0,
        "incidents_week": Incident.objects.filter(
            created_at__gte=week_since, is_test=False
        ).count(),
        "open_count": Incident.objects.filter(status__in=OPEN_STATUSES).count(),
        "overdue_now": sum(1 for r in incident_open_rows(now=now) if r["overdue"]),
    }


def display_caller(number: str, *, full: bool) -> str:
    if not number:
        return ""
    if full:
        return number
    try:
        return mask_phone(number)
    except InvalidPhoneNumber:
        return "***"


# How far from a caller an open incident counts as "near" on the map: a second report
# of the same fire or crash is usually within a few kilometres of the first.
NEARBY_RADIUS_M = 5000
NEARBY_LIMIT = 20


def open_incidents_near(
    incidents: QuerySet[Incident], *, lat: float, lng: float, radius_m: float = NEARBY_RADIUS_M
) -> list[tuple[Incident, float]]:
    """Of `incidents`, those within `radius_m` of the point, nearest first, each with its
    distance. A box on the indexed columns first, the exact distance on the few left."""
    dlat = radius_m / 111_320
    dlng = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    boxed = incidents.filter(
        latitude__gte=lat - dlat, latitude__lte=lat + dlat,
        longitude__gte=lng - dlng, longitude__lte=lng + dlng,
    )
    near = [
        (i, distance_m(lat, lng, i.latitude, i.longitude))
        for i in boxed
        if i.latitude is not None and i.longitude is not None
    ]
    near = sorted((pair for pair in near if pair[1] <= radius_m), key=lambda pair: pair[1])
    return near[:NEARBY_LIMIT]


def map_points(incidents: list[Incident] | QuerySet[Incident]) -> list[dict[str, Any]]:
    return [
        {
            "id": i.pk,
            "reference": i.reference,
            "category": i.category.name,
            "priority": i.priority,
            "status": i.status,
            "lat": i.latitude,
            "lng": i.longitude,
            "address": i.address,
        }
        for i in incidents
        if i.latitude is not None and i.longitude is not None
    ]


def open_dispatches_query() -> QuerySet[Dispatch]:
    return Dispatch.objects.filter(status__in=ACTIVE_DISPATCH).select_related(
        "incident__category", "agency"
    )


def incident_search(
    user_query: QuerySet[Incident], q: str = "", status: str = ""
) -> QuerySet[Incident]:
    query = user_query.select_related("category")
    if status == "open":
        query = query.filter(status__in=OPEN_STATUSES)
    elif status:
        query = query.filter(status=status)
    if q:
        query = query.filter(
            Q(reference__icontains=q) | Q(address__icontains=q) | Q(description__icontains=q)
        )
    return query.order_by("-created_at")


# --- what the screens list ---------------------------------------------------------------


def active_categories() -> QuerySet[Category]:
    return Category.objects.filter(active=True)


def active_agencies(*, exclude: Iterable[int] = ()) -> QuerySet[Agency]:
    return Agency.objects.filter(active=True).exclude(pk__in=list(exclude))


def all_agencies() -> QuerySet[Agency]:
    return Agency.objects.all()


def past_blocks(limit: int = 50) -> QuerySet[NumberBlock]:
    """Blocks no longer in force (lifted or expired), newest first."""
    return NumberBlock.objects.exclude(pk__in=active_blocks().values("pk"))[:limit]


def agency_options() -> list[tuple[int, str]]:
    """Active agencies as (id, name): what a responder may be attached to."""
    return list(active_agencies().values_list("pk", "name"))


def responder_agency_code(user: Any) -> str | None:
    """The code of the agency a responder belongs to (None for other staff)."""
    return (
        AgencyMember.objects.filter(user_id=user.pk).values_list("agency__code", flat=True).first()
    )


def routing_codes(category: Category) -> list[str]:
    """The codes of the agencies a category's incidents are suggested to, in order."""
    return list(
        RoutingRule.objects.filter(category=category)
        .order_by("order")
        .values_list("agency__code", flat=True)
    )


def responder_agency_ids() -> dict[int, int]:
    """user id -> agency id of every OPD responder's membership."""
    return dict(AgencyMember.objects.values_list("user_id", "agency_id"))


def category_rows() -> list[dict[str, Any]]:
    """Categories with the codes of the agencies their routing suggests, in order."""
    rules: dict[int, list[str]] = {}
    for rule in RoutingRule.objects.select_related("agency").order_by("order"):
        rules.setdefault(rule.category_id, []).append(rule.agency.code)
    rows = []
    for c in Category.objects.all():
        codes = rules.get(c.pk, [])
        # The picker's places: the current agencies, then empty ones (at least three).
        slots = codes + [""] * (max(3, len(codes) + 1) - len(codes))
        rows.append({"category": c, "agency_codes": codes, "slots": slots})
    return rows


def pbx_credentials() -> QuerySet[PbxCredential]:
    return PbxCredential.objects.all()


def incident_settings() -> IncidentSettings:
    return IncidentSettings.load()


# The telecom operators' names, for a trunk code the Pemda has not named: the PBX's
# trunk names usually carry the operator (e.g. "tsel-112-01", "isat_sip").
_OPERATOR_HINTS = (
    (("telkomsel", "tsel"), "Telkomsel"),
    (("indosat", "isat", "ioh", "ooredoo"), "Indosat Ooredoo Hutchison"),
    (("xlsmart", "xl-", "xl_", "axiata"), "XL"),
    (("smartfren", "sfren"), "Smartfren"),
    (("telkom",), "Telkom"),
)


def line_label(trunk: str, labels: dict[str, str]) -> str:
    """A call's trunk as people say it: the Pemda admin's name for the code, else the
    telecom operator it names, else "simulation" or "other line" (never the raw code,
    which the admin sees on the settings page)."""
    from django.utils.translation import gettext as _

    if not trunk:
        return _("Unknown line")
    if trunk in labels:
        return labels[trunk]
    code = trunk.lower()
    for hints, name in _OPERATOR_HINTS:
        if any(code.startswith(h) or h in code for h in hints):
            return name
    if code.startswith("sim") or "test" in code:
        return _("Simulation line")
    return _("Other line")
