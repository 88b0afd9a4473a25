"""Billing writes: plans, subscriptions, issuing a month's invoices, marking paid."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from djmoney.money import Money

from billing import pricing
from billing.models import Invoice, InvoiceLine, Plan, Subscription
from tenants.models import Tenant

logger = logging.getLogger(__name__)

PAYMENT_DAYS = 30
# (code, name, min population, max population, base fee, seat, call, notification)
DEFAULT_PLANS = [
    ("kecil", "Paket Kecil (s.d. 500 ribu jiwa)", 0, 500_000,
     "15000000", "750000", "1250", "350"),
    ("sedang", "Paket Sedang (500 ribu – 1,5 juta jiwa)", 500_001, 1_500_000,
     "25000000", "750000", "1000", "350"),
    ("besar", "Paket Besar (di atas 1,5 juta jiwa)", 1_500_001, None,
     "40000000", "650000", "850.50", "275.25"),
]


class BillingError(Exception):
    pass


def plans_ensure() -> list[Plan]:
    out = []
    for code, name, low, high, base, seat, call, notification in DEFAULT_PLANS:
        plan, _created = Plan.objects.get_or_create(
            code=code,
            defaults={
                "name": name, "min_population": low, "max_population": high,
                "base_fee": Money(Decimal(base), "IDR"), "seat_price": Money(Decimal(seat), "IDR"),
                "call_price": Money(Decimal(call), "IDR"),
                "notification_price": Money(Decimal(notification), "IDR"),
            },
        )
        out.append(plan)
    return out


def plan_for_population(population: int) -> Plan:
    plans_ensure()
    for plan in Plan.objects.filter(active=True).order_by("min_population"):
        if plan.min_population <= population and (
            plan.max_population is None or population <= plan.max_population
        ):
            return plan
    raise BillingError(f"no plan for a population of {population}")


def subscription_ensure(*, tenant: Tenant, population: int, starts_on: dt.date) -> Subscription:
    """The tenant's subscription, created at launch with the plan of its population."""
    sub, _created = Subscription.objects.get_or_create(
        tenant=tenant,
        defaults={"plan": plan_for_population(population), "population": population,
                  "starts_on": starts_on},
    )
    return sub


def measure_usage(tenant: Tenant, year: int, month: int) -> pricing.Usage:
    """Read in the tenant's schema: its operator seats now, calls handled and
    notifications sent in the month (the Pemda's local month)."""
    from accounts.models import Role, User
    from incidents.models import Call
    from outbox.models import OutboxMessage

    zone = zoneinfo.ZoneInfo(tenant.region.timezone if tenant.region else "Asia/Jakarta")
    days = pricing.billed_days(year, month, dt.date(year, month, 1))[1]
    since = dt.datetime(year, month, 1, tzinfo=zone)
    until = dt.datetime.combine(dt.date(year, month, days) + dt.timedelta(days=1), dt.time(),
                                tzinfo=zone)
    with schema_context(tenant.schema_name):
        return pricing.Usage(
            seats=User.objects.filter(is_active=True,
                                      role__in=[Role.CALL_TAKER, Role.SUPERVISOR]).count(),
            calls=Call.objects.filter(is_test=False, answered_at__isnull=False,
                                      ringing_at__gte=since, ringing_at__lt=until).count(),
            notifications=OutboxMessage.objects.filter(
                status=OutboxMessage.Status.SENT, sent_at__gte=since, sent_at__lt=until
            ).count(),
        )


LINE_TEXT = {
    "base": "Biaya dasar bulanan",
    "seats": "Kursi operator (call-taker dan supervisor)",
    "calls": "Panggilan yang ditangani",
    "notifications": "Notifikasi terkirim ke OPD",
}


@dataclass
class IssueResult:
    invoice: Invoice | None
    created: bool


def invoice_issue(*, tenant: Tenant, year: int, month: int,
                  now: dt.datetime | None = None) -> IssueResult:
    """The tenant's invoice for the month, issued now if it was not already. Safe
    to run twice or concurrently: the (tenant, month) constraint decides."""
    first = dt.date(year, month, 1)
    existing = Invoice.objects.filter(tenant=tenant, period_start=first).first()
    if existing is not None:
        return IssueResult(existing, False)
    sub = Subscription.objects.select_related("plan").filter(tenant=tenant).first()
    if sub is None:
        return IssueResult(None, False)
    active, month_days = pricing.billed_days(year, month, sub.starts_on, sub.ends_on)
    if active == 0:
        return IssueResult(None, False)
    plan = sub.plan
    usage = measure_usage(tenant, year, month)
    lines = pricing.lines_for(
        base_fee=plan.base_fee, seat_price=plan.seat_price, call_price=plan.call_price,
        notification_price=plan.notification_price, usage=usage, active_days=active,
        month_days=month_days,
    )
    now = now or timezone.now()
    code = tenant.region.code if tenant.region else tenant.schema_name
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                number=f"INV/{year}{month:02d}/{code}",
                tenant=tenant, subscription=sub, period_start=first,
                period_end=dt.date(year, month, month_days), plan_name=plan.name,
                total=pricing.total_of(lines), issued_at=now,
                due_on=now.date() + dt.timedelta(days=PAYMENT_DAYS),
            )
            InvoiceLine.objects.bulk_create([
                InvoiceLine(
                    invoice=invoice, kind=line.kind, quantity=line.quantity,
                    unit_price=line.unit_price, amount=line.amount,
                    description=_describe(line, active, month_days),
                )
                for line in lines
            ])
    except IntegrityError:
        # Another worker issued it between our check and our insert.
        return IssueResult(Invoice.objects.get(tenant=tenant, period_start=first), False)
    logger.info("billing.invoice_issued", extra={"invoice": invoice.number})
    return IssueResult(invoice, True)


def _describe(line: pricing.Line, active: int, month_days: int) -> str:
    text = LINE_TEXT[line.kind]
    if line.kind in ("base", "seats") and active < month_days:
        text += f" (pro rata {active}/{month_days} hari)"
    return text


def invoices_issue_month(year: int, month: int) -> dict[str, int]:
    """Every subscribed Pemda; returns {"created": n, "existing": n}."""
    counts = {"created": 0, "existing": 0}
    subs = Subscription.objects.select_related("tenant__region").order_by("tenant__schema_name")
    for sub in subs:
        result = invoice_issue(tenant=sub.tenant, year=year, month=month)
        if result.invoice is not None:
            counts["created" if result.created else "existing"] += 1
    return counts


def invoice_mark_paid(*, invoice_id: int, actor: object) -> Invoice:
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice_id)
        if invoice.status == Invoice.Status.PAID:
            raise BillingError("already paid")
        invoice.status = Invoice.Status.PAID
        invoice.paid_at = timezone.now()
        invoice.paid_by = actor  # type: ignore[assignment]
        invoice.save(update_fields=["status", "paid_at", "paid_by"])
    return invoice
