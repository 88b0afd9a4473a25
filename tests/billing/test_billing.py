"""Billing stub: plans, subscriptions, a month's invoice with usage lines, rounding,
idempotence, marking paid, and who sees which invoice."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django_tenants.utils import schema_context
from djmoney.money import Money
from pypdf import PdfReader

from billing import pricing, services
from billing.models import Invoice, InvoiceLine

WIB = zoneinfo.ZoneInfo("Asia/Jakarta")


def idr(value: str) -> Money:
    return Money(Decimal(value), "IDR")


@pytest.mark.parametrize(("raw", "rounded"), [
    ("0.49", "0"), ("0.50", "1"), ("2.50", "3"), ("3.50", "4"), ("1234.4999", "1234"),
])
def test_rounding_is_half_up_to_whole_rupiah(raw, rounded):
    assert pricing.round_rupiah(idr(raw)) == idr(rounded)


def test_rounding_refuses_other_currencies_and_formats_rupiah():
    with pytest.raises(ValueError):
        pricing.round_rupiah(Money(1, "USD"))
    assert pricing.rupiah(idr("16241813")) == "Rp 16.241.813"
    assert pricing.rupiah(idr("999.5")) == "Rp 1.000"


def test_lines_are_rounded_one_by_one_and_add_up():
    lines = pricing.lines_for(
        base_fee=idr("40000000"), seat_price=idr("650000"), call_price=idr("850.50"),
        notification_price=idr("275.25"), usage=pricing.Usage(seats=3, calls=3, notifications=2),
        active_days=12, month_days=31,
    )
    assert [line.amount for line in lines] == [
        idr("15483871"),  # 40 000 000 x 12/31 = 15 483 870,97
        idr("754839"),  # 3 seats x 12/31 x 650 000 = 754 838,71
        idr("2552"),  # 3 x 850,50 = 2 551,50 -> up
        idr("551"),  # 2 x 275,25 = 550,50 -> up
    ]
    assert pricing.total_of(lines) == idr("16241813")
    assert all(str(line.amount.currency) == "IDR" for line in lines)
    assert pricing.billed_days(2026, 10, dt.date(2026, 10, 20)) == (12, 31)
    assert pricing.billed_days(2026, 9, dt.date(2026, 10, 20)) == (0, 30)
    assert pricing.billed_days(2024, 2, dt.date(2020, 1, 1)) == (29, 29)


def test_plan_by_population_tier(db):
    assert services.plan_for_population(250_000).code == "kecil"
    assert services.plan_for_population(500_001).code == "sedang"
    assert services.plan_for_population(2_082_801).code == "besar"


def _october_usage(tenant):
    """Sidoarjo in October 2025 (WIB): 3 calls handled, 2 notifications sent."""
    from incidents.models import Call
    from outbox.models import OutboxMessage

    def call(n, ring, answered=True, is_test=False):
        Call.objects.create(external_id=f"bill-{n}", caller="+6281200000000", state="ended",
                            ringing_at=ring, is_test=is_test,
                            answered_at=ring + dt.timedelta(seconds=5) if answered else None)

    with schema_context(tenant.schema_name):
        call(1, dt.datetime(2025, 10, 1, 0, 0, 10, tzinfo=WIB))  # 30 Sep 17:00 UTC: October
        call(2, dt.datetime(2025, 10, 15, 9, 0, tzinfo=WIB))
        call(3, dt.datetime(2025, 10, 31, 23, 59, tzinfo=WIB))
        call(4, dt.datetime(2025, 10, 16, 9, 0, tzinfo=WIB), answered=False)  # missed
        call(5, dt.datetime(2025, 10, 17, 9, 0, tzinfo=WIB), is_test=True)
        call(6, dt.datetime(2025, 11, 1, 0, 0, 30, tzinfo=WIB))  # November
        for n, status in enumerate(["sent", "sent", "pending"]):
            OutboxMessage.objects.create(
                channel="email", receiver=f"opd{n}@example.invalid", dedupe_key=f"bill-{n}",
                status=status, sent_at=dt.datetime(2025, 10, 20, tzinfo=WIB)
                if status == "sent" else None)


@pytest.fixture
def october(tenant_b, tenant_c):
    from billing.models import Subscription

    # The demo subscribed every launched Pemda from its launch: start these two afresh.
    Invoice.objects.filter(tenant__in=[tenant_b, tenant_c]).delete()
    Subscription.objects.filter(tenant__in=[tenant_b, tenant_c]).delete()
    _october_usage(tenant_b)
    services.subscription_ensure(tenant=tenant_b, population=2_082_801,
                                 starts_on=dt.date(2025, 10, 20))
    services.subscription_ensure(tenant=tenant_c, population=843_810,
                                 starts_on=dt.date(2020, 1, 1))
    mine = services.invoice_issue(tenant=tenant_b, year=2025, month=10).invoice
    theirs = services.invoice_issue(tenant=tenant_c, year=2025, month=10).invoice
    return mine, theirs


def test_invoice_lines_from_usage(october, tenant_b):
    invoice, other = october
    lines = {line.kind: line for line in invoice.lines.all()}
    assert lines["seats"].quantity == Decimal("1.1613")  # 3 operator seats x 12/31
    assert lines["calls"].quantity == 3 and lines["notifications"].quantity == 2
    assert invoice.total == idr("16241813")
    assert sum((line.amount for line in lines.values()), idr("0")) == invoice.total
    assert invoice.number == "INV/202510/35.15" and invoice.period_end == dt.date(2025, 10, 31)
    assert "pro rata 12/31" in lines["base"].description
    assert other.plan_name.startswith("Paket Sedang")
    assert services.invoice_issue(tenant=tenant_b, year=2025, month=9).invoice is None


def test_issuing_a_month_twice_never_creates_a_second_invoice(october, tenant_b):
    invoice, _other = october
    again = services.invoice_issue(tenant=tenant_b, year=2025, month=10)
    assert again.invoice == invoice and not again.created
    first = services.invoices_issue_month(2025, 10)
    assert services.invoices_issue_month(2025, 10) == {
        "created": 0, "existing": first["created"] + first["existing"]}
    assert Invoice.objects.filter(tenant=tenant_b, period_start=dt.date(2025, 10, 1)).count() == 1
    assert InvoiceLine.objects.filter(invoice=invoice).count() == 4
    # The database itself refuses a second one, whoever tries.
    with pytest.raises(IntegrityError), transaction.atomic():
        Invoice.objects.create(
            number="INV/DUP", tenant=tenant_b, subscription=invoice.subscription,
            period_start=dt.date(2025, 10, 1), period_end=dt.date(2025, 10, 31), plan_name="x",
            total=idr("1"), issued_at=invoice.issued_at, due_on=invoice.due_on)


def test_issue_month_task_bills_last_month(october, tenant_b):
    from billing.tasks import issue_month_task

    first = issue_month_task(2025, 10)
    again = issue_month_task(2025, 10)
    assert again["created"] == 0 and again["existing"] == first["created"] + first["existing"]
    # Last month of "now": the demo issued it for every launched Pemda, except the
    # two whose subscriptions this test's fixture started afresh.
    assert issue_month_task()["created"] == 2
    assert issue_month_task()["created"] == 0


def _public(client_for, username):
    from accounts.models import User

    with schema_context("public"):
        return client_for(None, User.objects.get(username=username))


def test_only_the_national_officer_marks_paid(october, public_client, client_for):
    invoice, _other = october
    url = f"/tagihan/{invoice.pk}/lunas/"
    assert public_client.post(url).status_code == 302  # to the login
    for username in ("prov.jatim", "auditor", "koordinator.dairi"):
        client = _public(client_for, username)
        assert client.post(url).status_code == 403
        assert client.get("/tagihan/").status_code == 403
    invoice.refresh_from_db()
    assert invoice.status == "issued" and invoice.paid_at is None
    officer = _public(client_for, "nasional")
    assert invoice.number in officer.get("/tagihan/").content.decode()
    assert officer.post(url).status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == "paid" and invoice.paid_at is not None
    paid_at = invoice.paid_at
    officer.post(url)
    invoice.refresh_from_db()
    assert invoice.paid_at == paid_at


def test_pemda_admin_sees_only_their_own_invoices(october, tenant_a, tenant_b, as_user):
    invoice, other = october
    admin = as_user(tenant_b, "admin")
    html = admin.get("/tagihan/").content.decode()
    assert invoice.number in html and other.number not in html
    assert admin.get(f"/tagihan/{other.pk}.pdf").status_code == 404
    response = admin.get(f"/tagihan/{invoice.pk}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert "TAGIHAN LAYANAN SIAGA112" in text and "INV/202510/35.15" in text
    assert "Rp 16.241.813" in text and "Kabupaten Sidoarjo" in text
    for username in ("supervisor", "operator1", "bupati", "damkar"):
        assert as_user(tenant_b, username).get("/tagihan/").status_code == 403
        assert as_user(tenant_b, username).get(f"/tagihan/{invoice.pk}.pdf").status_code == 403
    dairi_admin = as_user(tenant_a, "admin")
    response = dairi_admin.get("/tagihan/", HTTP_HOST="sidoarjo.localhost")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # On Dairi's own host, Dairi's admin sees no Sidoarjo invoice.
    dairi_admin = as_user(tenant_a, "admin")
    response = dairi_admin.get("/tagihan/")
    assert response.status_code == 200 and invoice.number not in response.content.decode()
    assert dairi_admin.get(f"/tagihan/{invoice.pk}.pdf").status_code == 404
