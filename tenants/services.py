"""Writes for regions and tenants. Every function is keyword-only and atomic."""

from __future__ import annotations

import csv
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils.text import slugify
from django_tenants.clone import CloneSchema
from django_tenants.utils import schema_exists

from audit.services import record
from tenants.cloning import CloneUnavailable, clone_schema_fast
from tenants.db import tenant_connection
from tenants.hosts import tenant_cache_clear
from tenants.models import Domain, Region, Tenant

logger = logging.getLogger(__name__)

IDN_AREA_DATA = Path(settings.NODE_MODULES) / "idn-area-data" / "data"
TEMPLATE_SCHEMA: str = settings.TENANT_BASE_SCHEMA
# Serialises provisioning across web, worker and CLI processes: two tasks for
# the same Pemda must not both clone, and the template must be built once.
PROVISION_LOCK_KEY = 112_000_001

# Kemendagri province code → official time zone (UU/Keppres on WIB/WITA/WIT).
_WITA_PROVINCES = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT_PROVINCES = {"81", "82", "91", "92", "93", "94", "95", "96", "97"}


def province_timezone(province_code: str) -> str:
    if province_code in _WIT_PROVINCES:
        return Region.TimeZone.WIT
    if province_code in _WITA_PROVINCES:
        return Region.TimeZone.WITA
    return Region.TimeZone.WIB


def _regency_slugs(rows: list[dict[str, str]]) -> dict[str, str]:
    """Host labels: 'sidoarjo'; where a Kabupaten and a Kota share a name
    (Probolinggo, Malang …) they become 'kab-probolinggo' and 'kota-probolinggo'."""
    bare = {
        r["code"]: slugify(r["name"].removeprefix("Kabupaten ").removeprefix("Kota "))
        for r in rows
    }
    counts: dict[str, int] = {}
    for slug in bare.values():
        counts[slug] = counts.get(slug, 0) + 1
    slugs = {}
    for r in rows:
        slug = bare[r["code"]]
        if counts[slug] > 1:
            slug = ("kota-" if r["name"].startswith("Kota ") else "kab-") + slug
        slugs[r["code"]] = slug
    if len(set(slugs.values())) != len(slugs):
        raise ValueError("region slugs are not unique; extend _regency_slugs")
    return slugs


@dataclass(frozen=True)
class RegionLoadResult:
    provinces: int
    regencies: int


@transaction.atomic
def regions_load(*, source_dir: Path = IDN_AREA_DATA) -> RegionLoadResult:
    """Upsert the 38 provinces and 514 kabupaten/kota from idn-area-data (ODbL)."""
    provinces_csv = source_dir / "provinces.csv"
    regencies_csv = source_dir / "regencies.csv"
    if not provinces_csv.exists():
        raise FileNotFoundError(
            f"{provinces_csv} is missing: run `npm ci --prefix frontend` (make does this)"
        )
    with provinces_csv.open(encoding="utf-8") as fh:
        provinces = list(csv.DictReader(fh))
    with regencies_csv.open(encoding="utf-8") as fh:
        regencies = list(csv.DictReader(fh))
    slugs = _regency_slugs(regencies)

    province_rows = [
        Region(
            code=p["code"],
            kind=Region.Kind.PROVINCE,
            name=p["name"],
            parent=None,
            is_city=False,
            timezone=province_timezone(p["code"]),
            slug="prov-" + slugify(p["name"]),
        )
        for p in provinces
    ]
    regency_rows = [
        Region(
            code=r["code"],
            kind=Region.Kind.REGENCY,
            name=r["name"],
            parent_id=r["province_code"],
            is_city=r["name"].startswith("Kota "),
            timezone=province_timezone(r["province_code"]),
            slug=slugs[r["code"]],
        )
        for r in regencies
    ]
    fields = ["kind", "name", "parent", "is_city", "timezone", "slug"]
    for rows in (province_rows, regency_rows):
        Region.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["code"], update_fields=fields
        )
    return RegionLoadResult(provinces=len(province_rows), regencies=len(regency_rows))


def tenant_domain(slug: str) -> str:
    return f"{slug}.{settings.BASE_DOMAIN}"


@transaction.atomic
def public_tenant_ensure() -> Tenant:
    """The public schema's tenant row and the national console's domain."""
    tenant, _ = Tenant.objects.get_or_create(
        schema_name="public",
        defaults={"name": "Siaga112 Nasional", "status": Tenant.Status.PLATFORM},
    )
    Domain.objects.get_or_create(
        domain=settings.BASE_DOMAIN, defaults={"tenant": tenant, "is_primary": True}
    )
    return tenant


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PROVISION_LOCK_KEY])


def template_ensure() -> Tenant:
    """Build (once) the migrated schema every new Pemda is cloned from.

    It is a Tenant row of its own so `migrate_schemas` keeps it current with
    every later migration, like any Pemda.
    """
    template = Tenant.objects.filter(schema_name=TEMPLATE_SCHEMA).first()
    if template is not None and schema_exists(TEMPLATE_SCHEMA):
        return template
    with transaction.atomic():
        _lock()
        template, _ = Tenant.objects.get_or_create(
            schema_name=TEMPLATE_SCHEMA,
            defaults={
                "name": "Template",
                "is_template": True,
                "status": Tenant.Status.PLATFORM,
            },
        )
        if not schema_exists(TEMPLATE_SCHEMA):
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE SCHEMA "{TEMPLATE_SCHEMA}"')
    # Migrations run outside the lock's transaction: migrate manages its own.
    call_command(
        "migrate_schemas", schema_name=TEMPLATE_SCHEMA, interactive=False, verbosity=0
    )
    tenant_connection().set_schema_to_public()
    return template


def schema_name_for(region: Region) -> str:
    return "pemda_" + region.code.replace(".", "_")


@transaction.atomic
def tenant_set_status(*, region_id: str, status: str, actor: object | None = None) -> int:
    """The one way another app changes a Pemda tenant's status (onboarding does,
    as its stage moves). Returns how many tenants it applies to: 0 while the
    Pemda has no tenant yet (it is provisioned after commit, and starts as
    installed). A real change writes an audit row in the same transaction."""
    if status not in Tenant.Status.values or status == Tenant.Status.PLATFORM:
        raise ValueError(f"{status!r} is not a Pemda tenant status")
    tenants = list(
        Tenant.objects.select_for_update().filter(region_id=region_id, is_template=False)
    )
    for tenant in tenants:
        before = tenant.status
        if before == status:
            continue
        Tenant.objects.filter(pk=tenant.pk).update(status=status)
        tenant.status = status
        # update() sends no signal: the host cache must not keep the old status.
        transaction.on_commit(tenant_cache_clear)
        tenant_cache_clear()
        record(
            actor=actor,
            action="tenant.status_changed",
            target=tenant,
            before={"status": before},
            after={"status": status},
        )
        logger.info("tenant.status_set", extra={"region": region_id, "status": status})
    return len(tenants)


@dataclass(frozen=True)
class ProvisionResult:
    tenant: Tenant
    created: bool
    seconds: float


def tenant_provision(*, region: Region, is_demo: bool = False) -> ProvisionResult:
    """Give a Pemda its schema and domain. Running it again does nothing.

    The schema is a clone of the migrated template (DATA mode copies the
    django_migrations rows and seed rows too), so no migration is replayed.
    """
    started = time.perf_counter()
    if region.kind != Region.Kind.REGENCY:
        raise ValueError(f"{region.name} is a province; tenants belong to a kabupaten/kota")
    existing = Tenant.objects.filter(region=region).first()
    if existing is not None and schema_exists(existing.schema_name):
        return ProvisionResult(existing, False, time.perf_counter() - started)

    template_ensure()
    schema = schema_name_for(region)
    with transaction.atomic():
        _lock()
        # Re-read under the lock: a concurrent provision may have just finished.
        tenant = Tenant.objects.filter(region=region).first()
        if tenant is not None and schema_exists(tenant.schema_name):
            return ProvisionResult(tenant, False, time.perf_counter() - started)
        if tenant is None:
            tenant = Tenant.objects.create(
                schema_name=schema,
                name=region.short_name,
                region=region,
                is_demo=is_demo,
                status=Tenant.Status.INSTALLED,
            )
        try:
            clone_schema_fast(template=TEMPLATE_SCHEMA, new_schema=tenant.schema_name)
        except CloneUnavailable:
            # A server newer than the bundled pg_dump: the slow, generic path.
            CloneSchema().clone_schema(TEMPLATE_SCHEMA, tenant.schema_name, set_connection=False)
        Domain.objects.get_or_create(
            domain=tenant_domain(region.slug), defaults={"tenant": tenant, "is_primary": True}
        )
        record(
            actor=None,
            action="tenant.provisioned",
            target=tenant,
            after={"schema_name": tenant.schema_name, "status": tenant.status},
        )
    tenant_connection().set_schema_to_public()
    seconds = time.perf_counter() - started
    logger.info(
        "tenant.provisioned",
        extra={"schema": tenant.schema_name, "region": region.code, "seconds": round(seconds, 3)},
    )
    return ProvisionResult(tenant, True, seconds)
