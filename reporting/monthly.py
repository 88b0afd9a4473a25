"""The Bupati's monthly report: the month's KPIs of one Pemda as a PDF in
Indonesian, rendered by WeasyPrint and kept (reporting.models.MonthlyReport)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tenants.utils import schema_context

from core.pdf import html_to_pdf
from reporting import kpis
from reporting.models import MonthlyReport
from reporting.periods import Period
from tenants.models import Tenant

MONTHS_ID = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
             "September", "Oktober", "November", "Desember"]


def month_label(year: int, month: int) -> str:
    return f"{MONTHS_ID[month - 1]} {year}"


def render_html(tenant: Tenant, year: int, month: int, now: dt.datetime | None = None) -> str:
    region = tenant.region
    tz = region.timezone if region else "Asia/Jakarta"
    period = Period.month(year, month, tz)
    with schema_context(tenant.schema_name):
        figures = kpis.tenant_kpis(period, now=now)
    generated = (now or timezone.now()).astimezone(period.zone)
    context: dict[str, Any] = {
        "tenant": tenant, "region": region, "period": period, "figures": figures,
        "month": month_label(year, month), "generated": generated,
        "kecamatan": figures.incidents_by_kecamatan[:10],
    }
    with translation.override("id"), timezone.override(period.zone):
        return render_to_string("reporting/monthly_pdf.html", context)


def monthly_report_generate(tenant: Tenant, year: int, month: int) -> MonthlyReport:
    pdf = html_to_pdf(render_html(tenant, year, month))
    slug = tenant.region.slug if tenant.region else tenant.schema_name
    name = f"laporan-112-{slug}-{year}-{month:02d}.pdf"
    first = dt.date(year, month, 1)
    with transaction.atomic():
        report = (MonthlyReport.objects.select_for_update()
                  .filter(tenant=tenant, period_start=first).first())
        if report is None:
            report = MonthlyReport(tenant=tenant, period_start=first)
        replaced = report.file.name if report.file else ""
        report.generated_at = timezone.now()
        report.file.save(name, ContentFile(pdf), save=False)
        report.save()
        if replaced:
            # Only once the new row is committed: until then the old file is the report.
            storage = report.file.storage
            transaction.on_commit(lambda: storage.delete(replaced))
    return report
