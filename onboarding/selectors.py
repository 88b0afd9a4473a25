"""Reads shared by the console views, the exports, GraphQL and the digest."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from onboarding.models import (
    STAGE_ORDER,
    Application,
    Launch,
    Operator,
    PemdaOnboarding,
    Regulation,
    Stage,
    TimelineEntry,
    TimelineKind,
    TrialResult,
    VisitResult,
)
from tenants.models import Region, Tenant

ACTIVE_STAGES = [s for s in STAGE_ORDER if s not in (Stage.NOT_STARTED, Stage.LAUNCHED)]


def total_regencies() -> int:
    return int(str(settings.SIAGA112["TOTAL_REGENCIES"]))


def stalled_after_days() -> int:
    return int(str(settings.SIAGA112["STALLED_AFTER_DAYS"]))


def stalled_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=stalled_after_days())


def _scoped(province_code: str | None) -> QuerySet[PemdaOnboarding]:
    qs = PemdaOnboarding.objects.all()
    if province_code:
        qs = qs.filter(region__parent_id=province_code)
    return qs


def stage_counts(*, province_code: str | None = None) -> dict[str, int]:
    counts = {s.value: 0 for s in Stage}
    for row in _scoped(province_code).values("stage").annotate(n=Count("pk")):
        counts[row["stage"]] = row["n"]
    return counts


def funnel(counts: dict[str, int]) -> list[tuple[str, str, int]]:
    """(stage, label, how many reached at least this stage), application onwards."""
    out = []
    for i, stage in enumerate(STAGE_ORDER):
        if i == 0:
            continue
        reached = sum(counts[s] for s in STAGE_ORDER[i:])
        out.append((stage, str(Stage(stage).label), reached))
    return out


@dataclass
class ProvinceRow:
    code: str
    name: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def launched(self) -> int:
        return self.counts.get(Stage.LAUNCHED, 0)

    @property
    def stage_cells(self) -> list[int]:
        return [self.counts.get(s, 0) for s in STAGE_ORDER]


def province_rows(*, province_code: str | None = None) -> list[ProvinceRow]:
    provinces = Region.objects.filter(kind=Region.Kind.PROVINCE)
    if province_code:
        provinces = provinces.filter(code=province_code)
    rows = {p.code: ProvinceRow(p.code, p.name, {s: 0 for s in STAGE_ORDER}) for p in provinces}
    for item in _scoped(province_code).values("region__parent_id", "stage").annotate(n=Count("pk")):
        row = rows.get(item["region__parent_id"] or "")
        if row is not None:
            row.counts[item["stage"]] = item["n"]
    return list(rows.values())


def launch_ordinals() -> dict[str, int]:
    """Region code → launch ordinal (1 = first launched nationally), ranked by
    launch date; same-day launches are ordered by region code."""
    codes = (
        PemdaOnboarding.objects.filter(stage=Stage.LAUNCHED)
        .order_by("launched_on", "region_id")
        .values_list("region_id", flat=True)
    )
    return {code: i for i, code in enumerate(codes, start=1)}


def launches_over_time(
    *, province_code: str | None = None, today: dt.date | None = None
) -> list[tuple[str, int, int]]:
    """(YYYY-MM, launches that month, cumulative) from the first launch up to the
    present month, so a quiet spell shows as a flat line, not as the end of time."""
    dates: list[dt.date] = [
        d
        for d in _scoped(province_code)
        .filter(stage=Stage.LAUNCHED)
        .order_by("launched_on")
        .values_list("launched_on", flat=True)
        if d is not None
    ]
    if not dates:
        return []
    per_month: dict[str, int] = defaultdict(int)
    for d in dates:
        per_month[f"{d.year:04d}-{d.month:02d}"] += 1
    out = []
    year, month = dates[0].year, dates[0].month
    now = today or timezone.localdate()
    last = max((dates[-1].year, dates[-1].month), (now.year, now.month))
    total = 0
    while (year, month) <= last:
        key = f"{year:04d}-{month:02d}"
        total += per_month.get(key, 0)
        out.append((key, per_month.get(key, 0), total))
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return out


def median_days_per_stage(
    *, province_code: str | None = None
) -> list[tuple[str, str, float | None, int]]:
    """(stage, label, median days spent, number of completed stays), from the timeline."""
    entries = TimelineEntry.objects.filter(
        kind__in=[TimelineKind.ADVANCE, TimelineKind.SEND_BACK]
    ).order_by("onboarding_id", "at", "id")
    if province_code:
        entries = entries.filter(onboarding__region__parent_id=province_code)
    stays: dict[str, list[float]] = defaultdict(list)
    previous: tuple[str, str, dt.datetime] | None = None
    for onboarding_id, to_stage, at in entries.values_list("onboarding_id", "to_stage", "at"):
        if previous is not None and previous[0] == onboarding_id:
            stays[previous[1]].append((at - previous[2]).total_seconds() / 86400)
        previous = (onboarding_id, to_stage, at)
    out = []
    for stage in ACTIVE_STAGES:
        values = stays.get(stage, [])
        out.append(
            (
                stage,
                str(Stage(stage).label),
                round(statistics.median(values), 1) if values else None,
                len(values),
            )
        )
    return out


def stalled(*, province_code: str | None = None) -> QuerySet[PemdaOnboarding]:
    return (
        _scoped(province_code)
        .filter(stage__in=ACTIVE_STAGES, stage_entered_at__lt=stalled_cutoff())
        .select_related("region", "region__parent")
        .order_by("stage_entered_at")
    )


# The list's sortable columns. Every sort ends on the region code, so equal keys
# (two Pemda in one stage) always come out in the same order.
SORT_KEYS = ("code", "name", "province", "stage", "days", "updated")


@dataclass(frozen=True)
class PemdaFilter:
    q: str = ""
    province: str = ""
    stage: str = ""
    stalled: bool = False
    # One of SORT_KEYS, "-" in front for descending; "" is by code.
    sort: str = ""

    def as_query(self, *, with_sort: bool = True) -> dict[str, str]:
        out = {"q": self.q, "province": self.province, "stage": self.stage}
        if self.stalled:
            out["stalled"] = "1"
        if with_sort:
            out["sort"] = self.sort
        return {k: v for k, v in out.items() if v}


def sort_param(value: str) -> str:
    """A sort parameter as typed in a URL, or "" when it names no column."""
    return value if value.lstrip("-") in SORT_KEYS else ""


@dataclass
class PemdaRow:
    code: str
    name: str
    province_code: str
    province: str
    stage: str
    stage_label: str
    stage_entered_at: dt.datetime | None
    days_in_stage: int | None
    is_stalled: bool
    launched_on: dt.date | None
    ordinal: int | None
    version: int = 0
    updated_at: dt.datetime | None = None


def pemda_rows(filters: PemdaFilter, *, scope_province: str | None = None) -> list[PemdaRow]:
    """Exactly what the list shows (and the CSV/XLSX exports contain)."""
    qs = PemdaOnboarding.objects.select_related("region", "region__parent").order_by("region_id")
    if scope_province:
        qs = qs.filter(region__parent_id=scope_province)
    if filters.province:
        qs = qs.filter(region__parent_id=filters.province)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.q:
        qs = qs.filter(Q(region__name__icontains=filters.q) | Q(region__code=filters.q))
    now = timezone.now()
    cutoff = stalled_cutoff(now)
    if filters.stalled:
        qs = qs.filter(stage__in=ACTIVE_STAGES, stage_entered_at__lt=cutoff)
    ordinals = launch_ordinals()
    rows = []
    for ob in qs:
        entered = ob.stage_entered_at
        rows.append(
            PemdaRow(
                code=ob.region_id,
                name=ob.region.name,
                province_code=ob.region.parent_id or "",
                province=ob.region.parent.name if ob.region.parent else "",
                stage=ob.stage,
                stage_label=str(Stage(ob.stage).label),
                stage_entered_at=entered,
                days_in_stage=(now - entered).days if entered else None,
                is_stalled=bool(ob.stage in ACTIVE_STAGES and entered and entered < cutoff),
                launched_on=ob.launched_on,
                ordinal=ordinals.get(ob.region_id),
                version=ob.version,
                updated_at=ob.updated_at,
            )
        )
    return _sorted(rows, filters.sort)


def _sorted(rows: list[PemdaRow], sort: str) -> list[PemdaRow]:
    key = sort.lstrip("-")
    if key not in SORT_KEYS or key == "code":
        return sorted(rows, key=lambda r: r.code, reverse=sort.startswith("-"))
    reverse = sort.startswith("-")
    # Rows without a value (never entered a stage) go last in either direction.
    missing = -1 if reverse else float("inf")
    keys: dict[str, Any] = {
        "name": lambda r: r.name.casefold(),
        "province": lambda r: r.province.casefold(),
        "stage": lambda r: STAGE_ORDER.index(r.stage),
        "days": lambda r: r.days_in_stage if r.days_in_stage is not None else missing,
        "updated": lambda r: r.updated_at.timestamp() if r.updated_at else missing,
    }
    # Two stable passes: the tie-breaker (code, always ascending) first.
    by_code = sorted(rows, key=lambda r: r.code)
    return sorted(by_code, key=keys[key], reverse=reverse)


def onboarding_get(region_code: str) -> PemdaOnboarding | None:
    return (
        PemdaOnboarding.objects.select_related("region", "region__parent")
        .filter(pk=region_code)
        .first()
    )


def timeline(onboarding: PemdaOnboarding) -> QuerySet[TimelineEntry]:
    return onboarding.transitions.select_related("actor").order_by("-at", "-id")


def trial_started_at(onboarding: PemdaOnboarding) -> dt.datetime | None:
    entry = (
        onboarding.transitions.filter(kind=TimelineKind.ADVANCE, to_stage=Stage.TRIAL)
        .order_by("-at")
        .first()
    )
    if entry is not None:
        return entry.at
    if onboarding.stage == Stage.TRIAL:
        return onboarding.stage_entered_at
    return None


def application_of(onboarding: PemdaOnboarding) -> Application | None:
    return Application.objects.filter(onboarding=onboarding).first()


def _application_missing(onboarding: PemdaOnboarding) -> list[str]:
    app = application_of(onboarding)
    if app is None:
        return [_("the application has not been filled in")]
    missing = []
    if not app.letter:
        missing.append(_("the Bupati/Walikota's letter (PDF)"))
    if not app.letter_number:
        missing.append(_("the letter number"))
    if not app.letter_date:
        missing.append(_("the letter date"))
    if not (app.contact_name and app.contact_phone and app.contact_email):
        missing.append(_("the contact person (name, phone and email)"))
    if not app.network_scheme:
        missing.append(_("the network scheme (SIP trunk or IP-PBX)"))
    if not app.address:
        missing.append(_("the planned call-center address"))
    if app.latitude is None or app.longitude is None:
        missing.append(_("the call-center coordinates"))
    return missing


def operator_routings(onboarding: PemdaOnboarding) -> list[dict[str, object]]:
    """One row per operator, whether or not anything was recorded yet."""
    have = {r.operator: r for r in onboarding.routings.all()}
    return [
        {
            "operator": op.value,
            "label": op.label,
            "letter_date": have[op.value].letter_date if op.value in have else None,
            "routing_opened_on": have[op.value].routing_opened_on if op.value in have else None,
        }
        for op in Operator
    ]


def missing_evidence(onboarding: PemdaOnboarding) -> list[str]:
    """What must still be recorded before this Pemda may leave its current stage."""
    stage = onboarding.stage
    if stage in (Stage.NOT_STARTED, Stage.APPLICATION):
        return _application_missing(onboarding)
    missing: list[str] = []
    if stage == Stage.VERIFICATION:
        visit = onboarding.visits.order_by("-visited_on", "-id").first()
        if visit is None:
            missing.append(_("a verification visit"))
        elif visit.result != VisitResult.PASSED:
            missing.append(_("a passed verification visit (the last one asked for rework)"))
        for row in operator_routings(onboarding):
            if row["letter_date"] is None:
                missing.append(
                    _("the ministry's letter to %(operator)s") % {"operator": row["label"]}
                )
    elif stage == Stage.INSTALLATION:
        if onboarding.installed_on is None:
            missing.append(_("the installation date"))
        if not Tenant.objects.filter(region_id=onboarding.region_id).exists():
            missing.append(_("the Pemda's tenant (provisioning has not finished yet)"))
    elif stage == Stage.TRAINING:
        sessions = list(onboarding.training_sessions.all())
        if not sessions:
            missing.append(_("an FGD/Bimtek session"))
        elif not any(s.operators_trained > 0 for s in sessions):
            missing.append(_("trained operators (no session recorded any)"))
    elif stage == Stage.TRIAL:
        if not onboarding.trial_calls.filter(result=TrialResult.SUCCESS).exists():
            missing.append(_("a successful test call"))
        for row in operator_routings(onboarding):
            if row["routing_opened_on"] is None:
                missing.append(_("112 routing opened by %(operator)s") % {"operator": row["label"]})
        if not Regulation.objects.filter(onboarding=onboarding).exists():
            missing.append(_("the enacted Perbup/Perwali (number and date)"))
        if not Launch.objects.filter(onboarding=onboarding).exists():
            missing.append(_("the launch details (date and who launches)"))
    return missing


def map_points(
    *, province_code: str | None = None, region_code: str | None = None
) -> list[dict[str, object]]:
    apps = Application.objects.filter(
        latitude__isnull=False, longitude__isnull=False
    ).select_related("onboarding__region")
    if region_code:
        apps = apps.filter(onboarding_id=region_code)
    if province_code:
        apps = apps.filter(onboarding__region__parent_id=province_code)
    return [
        {
            "code": a.onboarding_id,
            "name": a.onboarding.region.name,
            "stage": a.onboarding.stage,
            "stage_label": str(Stage(a.onboarding.stage).label),
            "lat": float(a.latitude),
            "lng": float(a.longitude),
        }
        for a in apps
        if a.latitude is not None and a.longitude is not None
    ]


def new_submissions(*, since: dt.datetime) -> QuerySet[TimelineEntry]:
    return (
        TimelineEntry.objects.filter(
            kind=TimelineKind.ADVANCE, to_stage=Stage.APPLICATION, at__gte=since
        )
        .select_related("onboarding__region", "onboarding__region__parent")
        .order_by("at")
    )
