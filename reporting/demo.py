"""Reporting's part of the demo: a month of operations in Sidoarjo (so its
supervisor and Bupati see a month of KPIs), the rollups for the national pages,
and Sidoarjo's Bupati report for last month. Idempotent."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from tenants.models import Tenant

KEY_PREFIX = "demo-kpi-"
SIDOARJO_KECAMATAN = [
    "Sidoarjo", "Buduran", "Candi", "Porong", "Krembung", "Tulangan", "Tanggulangin", "Jabon",
    "Krian", "Balongbendo", "Wonoayu", "Tarik", "Prambon", "Taman", "Waru", "Gedangan",
    "Sedati", "Sukodono",
]
# Relative weight of each local hour of the day: quiet nights, busy late afternoons.
HOUR_WEIGHTS = [2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7, 7, 8, 7, 7, 8, 9, 10, 10, 9, 8, 6, 4, 3]
CATEGORY_WEIGHTS = {
    "traffic_accident": 30, "medical": 25, "fire": 8, "crime": 8, "public_order": 8,
    "infrastructure": 8, "social": 5, "rescue": 3, "violence_women_children": 3,
    "natural_disaster": 1, "other": 3,
}
CALL_TYPES = [("emergency", 50), ("information", 18), ("prank", 20), ("ghost", 12)]


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([w[0] for w in weighted], weights=[w[1] for w in weighted])[0]


def seed_kpi_month(tenant: Tenant, *, today: dt.date | None = None, seed: int = 3515) -> int:
    """Calls, incidents and dispatches from the first day of last month to
    yesterday (local): last month whole for the Bupati's report, and at least 30
    days for the dashboard. All finished (closed, resolved), so no console or
    escalation picks them up. Returns the number of incidents made (0 when the
    demo already has them)."""
    from accounts.models import User
    from incidents.models import Agency, Call, Category, Dispatch, Incident, RoutingRule

    region = tenant.region
    assert region is not None
    zone = zoneinfo.ZoneInfo(region.timezone)
    today = today or timezone.now().astimezone(zone).date()
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    days = (today - first).days
    rng = random.Random(seed)
    with schema_context(tenant.schema_name), transaction.atomic():
        if Incident.objects.filter(idempotency_key__startswith=KEY_PREFIX).exists():
            return 0
        categories = {c.code: c for c in Category.objects.filter(code__in=CATEGORY_WEIGHTS)}
        routes: dict[int, list[Agency]] = {}
        for rule in RoutingRule.objects.select_related("agency").order_by("order"):
            routes.setdefault(rule.category_id, []).append(rule.agency)
        operators = list(User.objects.filter(role__in=["call_taker", "supervisor"]))
        box = (-7.62, -7.30, 112.50, 112.95)
        weighted_categories = [(c, CATEGORY_WEIGHTS[code]) for code, c in categories.items()]
        calls: list[Call] = []
        incidents: list[tuple[Incident, dt.datetime]] = []
        serial = 0
        for back in range(days, 0, -1):
            day = today - dt.timedelta(days=back)
            for _n in range(rng.randint(30, 55)):
                serial += 1
                hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
                ring = dt.datetime.combine(day, dt.time(hour, rng.randrange(60),
                                                        rng.randrange(60)), tzinfo=zone)
                call_type = _pick(rng, CALL_TYPES)
                missed = rng.random() < 0.04
                answer = None if missed else ring + dt.timedelta(
                    seconds=min(rng.lognormvariate(2.0, 0.6), 90))
                call = Call(
                    external_id=f"{KEY_PREFIX}{serial}",
                    caller=f"+628123{rng.randrange(10**7):07d}",
                    state="missed" if missed else "ended", call_type="" if missed else call_type,
                    ringing_at=ring, answered_at=answer,
                    ended_at=(answer or ring) + dt.timedelta(seconds=rng.randint(20, 240)),
                    operator=rng.choice(operators) if operators and answer else None,
                )
                calls.append(call)
                if call_type == "emergency" and answer is not None and weighted_categories:
                    category = _pick(rng, weighted_categories)
                    created = answer + dt.timedelta(seconds=rng.randint(40, 150))
                    incident = Incident(
                        reference=f"INC-{day:%y%m%d}-K{serial:04d}", category=category,
                        priority=category.priority, status="closed",
                        latitude=round(rng.uniform(box[0], box[1]), 5),
                        longitude=round(rng.uniform(box[2], box[3]), 5),
                        kecamatan=rng.choice(SIDOARJO_KECAMATAN),
                        address="Alamat contoh demo", description="Kejadian contoh (data demo)",
                        idempotency_key=f"{KEY_PREFIX}{serial}", created_at=created,
                        created_by=call.operator,
                    )
                    incidents.append((incident, created))
                    call.incident = incident
        Incident.objects.bulk_create([i for i, _c in incidents], batch_size=500)
        for call in calls:
            if call.incident is not None:
                call.incident_id = call.incident.pk
        Call.objects.bulk_create(calls, batch_size=1000)
        dispatches = []
        for incident, created in incidents:
            agencies = routes.get(incident.category_id, [])[:2 if rng.random() < 0.2 else 1]
            finished = created
            for agency in agencies:
                sent = created + dt.timedelta(seconds=rng.randint(30, 180))
                target = incident.category.ack_target_minutes * 60
                ack = sent + dt.timedelta(seconds=rng.randint(20, int(target * 1.6) + 30))
                departed = ack + dt.timedelta(seconds=rng.randint(30, 180))
                arrived = departed + dt.timedelta(minutes=rng.lognormvariate(2.3, 0.45))
                resolved = arrived + dt.timedelta(minutes=rng.randint(15, 90))
                finished = max(finished, resolved)
                dispatches.append(Dispatch(
                    incident=incident, agency=agency, status="resolved", dispatched_at=sent,
                    acknowledged_at=ack, departed_at=departed, arrived_at=arrived,
                    resolved_at=resolved, outcome="handled", note="Data demo",
                ))
            incident.closed_at = finished + dt.timedelta(minutes=rng.randint(2, 30))
        Dispatch.objects.bulk_create(dispatches, batch_size=1000)
        Incident.objects.bulk_update([i for i, _c in incidents], ["closed_at"], batch_size=500)
    return len(incidents)


def seed_reporting_demo() -> None:
    from reporting import rollups
    from reporting.models import MonthlyReport
    from reporting.monthly import monthly_report_generate
    from reporting.periods import previous_month

    sidoarjo = Tenant.objects.select_related("region__parent").filter(
        region__slug="sidoarjo").first()
    if sidoarjo is not None:
        seed_kpi_month(sidoarjo)
    rollups.rollup_all()
    if sidoarjo is not None and sidoarjo.region is not None:
        zone = zoneinfo.ZoneInfo(sidoarjo.region.timezone)
        year, month = previous_month(timezone.now().astimezone(zone).date())
        if not MonthlyReport.objects.filter(tenant=sidoarjo,
                                            period_start=dt.date(year, month, 1)).exists():
            monthly_report_generate(sidoarjo, year, month)
