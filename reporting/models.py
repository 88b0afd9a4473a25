"""Rollups in the public schema: per Pemda and local day, the additive parts of
the KPIs (counts, sums, histogram buckets), so national and provincial pages add
rows up instead of querying 514 tenant schemas. Written only by
reporting.rollups; a Pemda's own dashboard never reads them (it has the rows)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

# Upper bucket edges in seconds; the last bucket is everything above the last edge.
ANSWER_EDGES = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600)
RESPONSE_EDGES = (60, 120, 180, 300, 420, 600, 900, 1200, 1800, 2700, 3600, 7200)
BUCKETS = len(ANSWER_EDGES) + 1


def empty_histogram() -> list[int]:
    return [0] * BUCKETS


# The additive figures, in the order the rollup SQL returns them.
COUNT_FIELDS = (
    "calls", "blocked", "offered", "answered", "missed", "prank_ghost", "within_10", "within_20",
    "incidents", "incidents_closed", "a2d_count", "dispatches", "ack_ok", "ack_due",
    "ack_count", "arrive_ok", "arrive_due", "arrive_count", "resolved",
)
SUM_FIELDS = ("answer_sum", "a2d_sum", "ack_sum", "arrive_sum", "resolve_sum")
HIST_FIELDS = ("answer_hist", "ack_hist", "arrive_hist")


class RollupFigures(models.Model):
    """The additive figures of one Pemda over some stretch of its local days."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    # Denormalised from the tenant's region so a province's rows are one index range.
    region = models.ForeignKey("tenants.Region", on_delete=models.PROTECT, related_name="+")
    province_code = models.CharField(max_length=8)

    calls = models.PositiveIntegerField(default=0)
    blocked = models.PositiveIntegerField(default=0)
    offered = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)
    prank_ghost = models.PositiveIntegerField(default=0)
    within_10 = models.PositiveIntegerField(default=0)
    within_20 = models.PositiveIntegerField(default=0)
    answer_sum = models.FloatField(default=0)
    answer_hist = ArrayField(models.PositiveIntegerField(), default=empty_histogram)

    incidents = models.PositiveIntegerField(default=0)
    incidents_closed = models.PositiveIntegerField(default=0)
    a2d_count = models.PositiveIntegerField(default=0)
    a2d_sum = models.FloatField(default=0)

    dispatches = models.PositiveIntegerField(default=0)
    ack_ok = models.PositiveIntegerField(default=0)
    ack_due = models.PositiveIntegerField(default=0)
    ack_count = models.PositiveIntegerField(default=0)
    ack_sum = models.FloatField(default=0)
    ack_hist = ArrayField(models.PositiveIntegerField(), default=empty_histogram)
    arrive_ok = models.PositiveIntegerField(default=0)
    arrive_due = models.PositiveIntegerField(default=0)
    arrive_count = models.PositiveIntegerField(default=0)
    arrive_sum = models.FloatField(default=0)
    arrive_hist = ArrayField(models.PositiveIntegerField(), default=empty_histogram)
    resolved = models.PositiveIntegerField(default=0)
    resolve_sum = models.FloatField(default=0)

    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True


class DailyRollup(RollupFigures):
    day = models.DateField()  # the Pemda's local day

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "day"], name="rollup_one_per_tenant_day")
        ]
        indexes = [
            models.Index(fields=["day"], name="rollup_day_idx"),
            models.Index(fields=["province_code", "day"], name="rollup_province_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}"


class MonthlyRollup(RollupFigures):
    """The sum of a Pemda's daily rows of one calendar month (kept by the same run
    that writes the days), so a twelve-month trend reads 12 rows per Pemda."""

    month = models.DateField()  # first day of the month

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "month"],
                                    name="rollup_one_per_tenant_month"),
            models.CheckConstraint(condition=models.Q(month__day=1),
                                   name="monthly_rollup_first_day"),
        ]
        indexes = [
            models.Index(fields=["month"], name="rollup_month_idx"),
            models.Index(fields=["province_code", "month"], name="rollup_province_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.month:%Y-%m}"


# The national and provincial pages' default period: the last WINDOW_DAYS days,
# counted in WIB (each Pemda's rows are its own local days, as everywhere).
WINDOW_DAYS = 30
WINDOW_ZONE = "Asia/Jakarta"


def figure_sums_sql(alias: str) -> str:
    """SELECT columns summing `alias`'s rollup rows: every additive figure, and each
    histogram as an array of its summed buckets, named as the model fields."""
    sums = [f"coalesce(sum({alias}.{f}), 0) AS {f}" for f in (*COUNT_FIELDS, *SUM_FIELDS)]
    hists = [
        "ARRAY[" + ", ".join(f"coalesce(sum({alias}.{h}[{i + 1}]), 0)" for i in range(BUCKETS))
        + f"]::integer[] AS {h}"
        for h in HIST_FIELDS
    ]
    return ",\n  ".join(sums + hists)


class WindowRollup(RollupFigures):
    """One row per Pemda: the sum of its daily rows from `start` to `end`, the
    default period of the national pages (WINDOW_DAYS up to today in WIB). Rewritten
    by every rollup run of the Pemda, in the same transaction as its daily rows, so
    the pages read 514 rows instead of 514 x 30. A row whose window is not the asked
    period (the day turned, the rollup has not run yet) is not used: the pages sum
    that Pemda's daily rows instead."""

    start = models.DateField()
    end = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant"], name="rollup_one_window_per_tenant"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.start}..{self.end}"


class RollupState(models.Model):
    """Per Pemda: how far the rollup got, so a late or failing one shows its age."""

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="+", primary_key=True
    )
    # Changes stamped at or after this instant are not rolled up yet.
    watermark = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    days_refreshed = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"rollup state {self.tenant_id}"


def report_upload_to(instance: MonthlyReport, filename: str) -> str:
    return f"reports/{instance.tenant_id}/{filename}"


class MonthlyReport(models.Model):
    """The Bupati's monthly PDF for one Pemda and month, kept for download.
    Generated by Celery (reporting.monthly_report); regenerating replaces the file."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()  # first day of the month
    file = models.FileField(upload_to=report_upload_to)
    generated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "period_start"],
                                    name="monthly_report_one_per_month"),
        ]

    def __str__(self) -> str:
        return f"report {self.tenant_id} {self.period_start:%Y-%m}"
