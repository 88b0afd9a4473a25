"""Usage-based billing stub (public schema): plans by population tier, one
subscription per Pemda from its launch, one invoice per Pemda and month. Amounts
are Money in IDR; every line is rounded to whole rupiah when it is computed
(billing.pricing), never later. No payment gateway: a national officer marks an
invoice paid."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField


def money_field(**kwargs: object) -> MoneyField:
    return MoneyField(max_digits=16, decimal_places=2, default_currency="IDR",
                      currency_choices=[("IDR", "IDR")], **kwargs)


class Plan(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    min_population = models.PositiveIntegerField(default=0)
    # Inclusive upper bound; empty: no upper bound.
    max_population = models.PositiveIntegerField(null=True, blank=True)
    base_fee = money_field()  # per month
    seat_price = money_field()  # per operator seat (call-taker or supervisor) per month
    call_price = money_field()  # per call handled (answered, not a test)
    notification_price = money_field()  # per notification sent to an OPD
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["min_population"]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="subscription"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    population = models.PositiveIntegerField()
    starts_on = models.DateField()  # the launch date: the first billed day
    ends_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.tenant} ({self.plan})"


class Invoice(models.Model):
    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued, unpaid")
        PAID = "paid", _("Paid")

    number = models.CharField(max_length=40, unique=True)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT,
                                     related_name="invoices")
    period_start = models.DateField()  # the first day of the billed month
    period_end = models.DateField()  # its last day
    plan_name = models.CharField(max_length=120)
    total = money_field()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ISSUED)
    issued_at = models.DateTimeField()
    due_on = models.DateField()
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-period_start", "number"]
        constraints = [
            # Issuing a month twice (a retried beat job, two workers) cannot bill twice.
            models.UniqueConstraint(fields=["tenant", "period_start"],
                                    name="invoice_one_per_tenant_month"),
            models.CheckConstraint(condition=models.Q(period_start__day=1),
                                   name="invoice_period_is_a_month"),
            models.CheckConstraint(
                condition=~models.Q(status="paid") | models.Q(paid_at__isnull=False),
                name="invoice_paid_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        BASE = "base", _("Monthly base fee")
        SEATS = "seats", _("Operator seats")
        CALLS = "calls", _("Calls handled")
        NOTIFICATIONS = "notifications", _("Notifications sent")

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    description = models.CharField(max_length=200)
    quantity = models.DecimalField(max_digits=14, decimal_places=4)
    unit_price = money_field()
    amount = money_field()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "kind"], name="invoice_line_one_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id}:{self.kind}"
