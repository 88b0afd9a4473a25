"""Demo data: the onboarding picture the press reported, and one user per role.

Jawa Timur as of 9 Nov 2023 (15 launched, 4 in trial, 1 applying), Sidoarjo
launched 2022-06-20 as the 87th center nationally, Dairi in trial,
Kotamobagu at FGD/Bimtek, and a deterministic spread over the other provinces
(~120 launched nationally, as in Nov 2023). Every generated row is marked
is_demo. Safe to run again: everything is get-or-create.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Role, User
from accounts.policies import SECOND_FACTOR_ROLES
from accounts.twofactor import secret_base32, totp_device_ensure
from billing.demo import seed_billing_demo
from incidents.demo import demo_pbx_key, seed_tenant_demo
from onboarding.demo import seed_onboarding_demo
from onboarding.models import STAGE_ORDER, PemdaOnboarding, Stage, StageTransition
from onboarding.services import TENANT_STATUS_FOR_STAGE
from reporting.demo import seed_reporting_demo
from tenants.models import Region, Tenant
from tenants.services import (
    public_tenant_ensure,
    regions_load,
    tenant_provision,
    tenant_set_status,
)

DEMO_PASSWORD = "Siaga112-demo!"
SIDOARJO_LAUNCH = dt.date(2022, 6, 20)
SIDOARJO_ORDINAL = 87
NATIONAL_LAUNCHED = 120

JATIM_LAUNCHED_BEFORE_SIDOARJO = [
    "Kota Surabaya", "Kota Malang", "Kabupaten Banyuwangi", "Kota Probolinggo",
    "Kota Madiun", "Kota Mojokerto", "Kota Blitar",
]
JATIM_LAUNCHED_AFTER_SIDOARJO = [
    "Kabupaten Probolinggo", "Kabupaten Blitar", "Kota Pasuruan", "Kabupaten Mojokerto",
    "Kabupaten Jombang", "Kabupaten Gresik", "Kabupaten Sumenep",
]
JATIM_TRIAL = ["Kota Batu", "Kabupaten Pasuruan", "Kabupaten Malang", "Kabupaten Ngawi"]
JATIM_APPLYING = ["Kabupaten Situbondo"]
NAMED_ELSEWHERE = {"Kabupaten Dairi": Stage.TRIAL, "Kota Kotamobagu": Stage.TRAINING}
# How many Pemda outside the named ones sit in each unfinished stage.
SPREAD = {
    Stage.TRIAL: 8,
    Stage.TRAINING: 9,
    Stage.INSTALLATION: 6,
    Stage.VERIFICATION: 12,
    Stage.APPLICATION: 18,
}
TENANT_DEMO_USERS = [
    ("operator1", Role.CALL_TAKER, "Operator Satu"),
    ("operator2", Role.CALL_TAKER, "Operator Dua"),
    ("supervisor", Role.SUPERVISOR, "Supervisor Piket"),
    ("damkar", Role.OPD_RESPONDER, "Petugas Damkar"),
    ("psc119", Role.OPD_RESPONDER, "Petugas PSC 119"),
    ("admin", Role.PEMDA_ADMIN, "Admin Pemda"),
    ("bupati", Role.VIEWER, "Pimpinan Daerah"),
]
DEMO_TENANT_SLUGS = ["dairi", "sidoarjo"]


@dataclass
class DemoPlan:
    stage: str
    launched_on: dt.date | None = None
    days_in_stage: int = 0


@dataclass
class DemoSummary:
    counts: dict[str, int]
    tenants: int
    credentials_file: Path
    credentials: list[dict[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        lines = [
            "Demo onboarding: " + ", ".join(f"{k} {v}" for k, v in self.counts.items() if v),
            f"Pemda tenants provisioned: {self.tenants}",
            f"Demo logins (password {DEMO_PASSWORD!r} for all), also in {self.credentials_file}:",
        ]
        for c in self.credentials:
            second = "  + 2FA code: siaga112 totp" if c.get("totp_secret") else ""
            lines.append(f"  {c['url']:<38} {c['username']:<26} {c['role']}{second}")
        lines.append(
            "Supervisors, Pemda admins, national and provincial officers log in with a second\n"
            "factor: after the password, enter the code of `SIAGA112_DEBUG=1 .venv/bin/siaga112\n"
            "totp <host> <user>` (e.g. `... totp dairi supervisor`), or add the user's\n"
            "totp_secret from that file to an authenticator app."
        )
        lines.append(
            "Ring a call on Dairi's consoles (as its PBX would), in a second shell:\n"
            "  make ring"
        )
        return "\n".join(lines)


def _by_name(regencies: dict[str, Region], province_code: str, name: str) -> Region:
    for region in regencies.values():
        if region.parent_id == province_code and region.name == name:
            return region
    raise LookupError(f"demo: no regency named {name!r} in province {province_code}")


def _spread_dates(start: dt.date, end: dt.date, n: int) -> list[dt.date]:
    if n <= 0:
        return []
    step = (end - start).days / max(n, 1)
    return [start + dt.timedelta(days=int(i * step)) for i in range(n)]


def build_plan(regencies: dict[str, Region]) -> dict[str, DemoPlan]:
    """Which stage each demo Pemda is at. Deterministic (seeded) so reruns agree."""
    rng = random.Random(112)
    plan: dict[str, DemoPlan] = {}
    jatim = "35"
    before = [_by_name(regencies, jatim, n) for n in JATIM_LAUNCHED_BEFORE_SIDOARJO]
    after = [_by_name(regencies, jatim, n) for n in JATIM_LAUNCHED_AFTER_SIDOARJO]
    sidoarjo = _by_name(regencies, jatim, "Kabupaten Sidoarjo")
    named = {r.code for r in (*before, *after, sidoarjo)}
    for name in JATIM_TRIAL:
        r = _by_name(regencies, jatim, name)
        plan[r.code] = DemoPlan(Stage.TRIAL, days_in_stage=rng.randint(10, 90))
        named.add(r.code)
    for name in JATIM_APPLYING:
        r = _by_name(regencies, jatim, name)
        plan[r.code] = DemoPlan(Stage.APPLICATION, days_in_stage=rng.randint(10, 40))
        named.add(r.code)
    for name, stage in NAMED_ELSEWHERE.items():
        r = next(x for x in regencies.values() if x.name == name)
        plan[r.code] = DemoPlan(stage, days_in_stage=20)
        named.add(r.code)

    others = sorted(c for c, r in regencies.items() if r.parent_id != jatim and c not in named)
    rng.shuffle(others)
    pool = iter(others)
    # Sidoarjo is the 87th launch: exactly 86 launched before it.
    n_before = SIDOARJO_ORDINAL - 1 - len(before)
    n_after = NATIONAL_LAUNCHED - SIDOARJO_ORDINAL - len(after)
    early = [next(pool) for _ in range(n_before)]
    late = [next(pool) for _ in range(n_after)]
    early_regions = early + [r.code for r in before]
    rng.shuffle(early_regions)
    for code, day in zip(
        early_regions,
        _spread_dates(dt.date(2016, 10, 3), dt.date(2022, 6, 10), len(early_regions)),
        strict=True,
    ):
        plan[code] = DemoPlan(Stage.LAUNCHED, launched_on=day)
    plan[sidoarjo.code] = DemoPlan(Stage.LAUNCHED, launched_on=SIDOARJO_LAUNCH)
    late_regions = late + [r.code for r in after]
    rng.shuffle(late_regions)
    for code, day in zip(
        late_regions,
        _spread_dates(dt.date(2022, 7, 4), dt.date(2023, 11, 6), len(late_regions)),
        strict=True,
    ):
        plan[code] = DemoPlan(Stage.LAUNCHED, launched_on=day)
    for stage, n in SPREAD.items():
        for _ in range(n):
            # Some sit well past the 60-day stall line, so the console has work; each
            # since its own day (a handful of fixed values made them all stall alike).
            plan[next(pool)] = DemoPlan(stage, days_in_stage=rng.randint(8, 240))
    return plan


# Typical days spent in application … trial before the next stage.
STAGE_GAP_DAYS = [0, 120, 45, 60, 30, 35]


def _history(
    plan: DemoPlan, now: dt.datetime, seed: str = ""
) -> list[tuple[str, str, dt.datetime]]:
    """(from, to, at) for every stage this Pemda passed, with plausible gaps: each
    Pemda's own, around the typical ones (seeded by its code, so reruns agree), so
    the national medians are not the round numbers of a generator."""
    rng = random.Random(f"history-{seed}")
    target = STAGE_ORDER.index(plan.stage)
    if plan.launched_on is not None:
        end = dt.datetime.combine(plan.launched_on, dt.time(3, 0), tzinfo=dt.UTC)
    else:
        end = now - dt.timedelta(days=plan.days_in_stage, hours=rng.uniform(0, 20))
    moments = [end]
    for i in range(target - 1, 0, -1):
        days = STAGE_GAP_DAYS[i] * rng.uniform(0.6, 1.5)
        moments.insert(0, moments[0] - dt.timedelta(days=days))
    return [(STAGE_ORDER[i], STAGE_ORDER[i + 1], moments[i]) for i in range(target)]


@transaction.atomic
def _seed_onboarding(plan: dict[str, DemoPlan], regencies: dict[str, Region]) -> None:
    now = timezone.now()
    existing = set(PemdaOnboarding.objects.values_list("region_id", flat=True))
    PemdaOnboarding.objects.bulk_create(
        [PemdaOnboarding(region_id=code) for code in regencies if code not in existing]
    )
    seeded = set(
        PemdaOnboarding.objects.filter(is_demo=True).values_list("region_id", flat=True)
    )
    transitions = []
    for code, item in plan.items():
        if code in seeded:
            continue  # already seeded, and maybe moved on in the demo since: keep it
        history = _history(item, now, seed=code)
        PemdaOnboarding.objects.filter(region_id=code).update(
            stage=item.stage,
            stage_entered_at=history[-1][2] if history else None,
            launched_on=item.launched_on,
            is_demo=True,
        )
        transitions += [
            StageTransition(
                onboarding_id=code, from_stage=f, to_stage=t, at=at, note="demo data"
            )
            for f, t, at in history
        ]
    StageTransition.objects.bulk_create(transitions)


def _ensure_user(
    username: str, role: str, display: str, region: Region | None = None
) -> dict[str, str]:
    """The user, and for a two-factor role its pre-enrolled authenticator: the
    returned extra fields (the TOTP secret) go to var/demo-credentials.json."""
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"role": role, "display_name": display, "region": region},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    if role not in SECOND_FACTOR_ROLES:
        return {}
    # Kept across runs (the existing device wins), so a phone set up once keeps working.
    return {"totp_secret": secret_base32(totp_device_ensure(user=user))}


def _url(host: str) -> str:
    return f"http://{host}:{settings.SIAGA112['PUBLIC_PORT'] or 80}/"


def seed_demo(*, provision: bool = True) -> DemoSummary:
    regions_load()
    public_tenant_ensure()
    regencies = {r.code: r for r in Region.objects.filter(kind=Region.Kind.REGENCY)}
    plan = build_plan(regencies)
    _seed_onboarding(plan, regencies)

    credentials: list[dict[str, Any]] = []
    base = settings.BASE_DOMAIN
    provinces = {r.code: r for r in Region.objects.filter(kind=Region.Kind.PROVINCE)}
    dairi = next(r for r in regencies.values() if r.name == "Kabupaten Dairi")
    kotamobagu = next(r for r in regencies.values() if r.name == "Kota Kotamobagu")
    public_users = [
        ("nasional", Role.NATIONAL_OFFICER, "Petugas Kominfo", None),
        ("prov.jatim", Role.PROVINCIAL_OFFICER, "Diskominfo Jawa Timur", provinces["35"]),
        ("prov.sumut", Role.PROVINCIAL_OFFICER, "Diskominfo Sumatera Utara", provinces["12"]),
        ("koordinator.dairi", Role.PEMDA_COORDINATOR, "Diskominfo Dairi", dairi),
        ("koordinator.kotamobagu", Role.PEMDA_COORDINATOR, "Diskominfo Kotamobagu", kotamobagu),
        ("auditor", Role.AUDITOR, "Auditor", None),
    ]
    for username, role, display, region in public_users:
        extra = _ensure_user(username, role, display, region)
        credentials.append({"url": _url(base), "username": username, "role": role, **extra})

    tenants = 0
    if provision:
        for code, item in sorted(plan.items()):
            if item.stage in TENANT_STATUS_FOR_STAGE:
                tenant_provision(region=regencies[code], is_demo=True)
                tenant_set_status(
                    region_id=code, status=TENANT_STATUS_FOR_STAGE[Stage(item.stage)]
                )
                tenants += 1
        for slug in DEMO_TENANT_SLUGS:
            tenant = Tenant.objects.get(region__slug=slug)
            with schema_context(tenant.schema_name):
                for username, role, display in TENANT_DEMO_USERS:
                    extra = _ensure_user(username, role, display)
                    credentials.append(
                        {"url": _url(f"{slug}.{base}"), "username": username, "role": role,
                         **extra}
                    )
                seed_tenant_demo(tenant)
    seed_onboarding_demo()
    if provision:
        # After onboarding: launch dates decide the subscriptions.
        seed_reporting_demo()
        seed_billing_demo()

    counts: dict[str, int] = {s.value: 0 for s in Stage}
    for stage in PemdaOnboarding.objects.values_list("stage", flat=True):
        counts[stage] += 1
    out = Path(settings.VAR_DIR) / "demo-credentials.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "password": DEMO_PASSWORD,
                # One key per Pemda: a key works on its own Pemda's host only.
                "pbx_keys": {slug: demo_pbx_key(slug) for slug in DEMO_TENANT_SLUGS},
                "accounts": credentials,
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    return DemoSummary(counts=counts, tenants=tenants, credentials_file=out,
                       credentials=credentials)
