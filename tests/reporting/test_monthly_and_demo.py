"""The Bupati's monthly PDF (made by Celery, kept for download) and the demo's
promise: Sidoarjo has a month of KPIs matching its incidents, the national
officer sees Jawa Timur's league table, every launched Pemda has last month's
invoice."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context
from pypdf import PdfReader

from reporting import kpis
from reporting.models import MonthlyReport
from reporting.monthly import month_label, monthly_report_generate
from reporting.periods import Period, previous_month

WIB = zoneinfo.ZoneInfo("Asia/Jakarta")


def last_month() -> tuple[int, int]:
    return previous_month(timezone.now().astimezone(WIB).date())


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())  # line breaks fall wherever the layout put them


def test_bupati_pdf_renders_the_month_in_indonesian(tenant_b):
    year, month = last_month()
    report = monthly_report_generate(tenant_b, year, month)
    with report.file.open("rb") as handle:
        text = pdf_text(handle.read())
    with schema_context(tenant_b.schema_name):
        figures = kpis.tenant_kpis(Period.month(year, month))
    assert "Laporan Bulanan Layanan Darurat 112" in text
    assert "Kabupaten Sidoarjo" in text and month_label(year, month) in text
    assert "dijawab dalam 10 detik" in text and "WIB" in text
    assert f"{figures.calls['calls']} panggilan masuk" in text and figures.calls["calls"] > 500
    # Generating again replaces the month's report: still one.
    monthly_report_generate(tenant_b, year, month)
    assert MonthlyReport.objects.filter(tenant=tenant_b,
                                        period_start=dt.date(year, month, 1)).count() == 1


def test_monthly_reports_page_access_and_download(tenant_b, tenant_c, as_user, client_for,
                                                  monkeypatch,
                                                  django_capture_on_commit_callbacks):
    from reporting import tasks

    year, month = last_month()
    mine = MonthlyReport.objects.get(tenant=tenant_b, period_start=dt.date(year, month, 1))
    theirs = monthly_report_generate(tenant_c, year, month)
    assert client_for(tenant_b).get("/laporan/bulanan/").status_code == 302
    for username in ("operator1", "damkar"):
        client = as_user(tenant_b, username)
        assert client.get("/laporan/bulanan/").status_code == 403
        assert client.get(f"/laporan/bulanan/{mine.pk}.pdf").status_code == 403
    for username in ("supervisor", "admin", "bupati"):
        client = as_user(tenant_b, username)
        html = client.get("/laporan/bulanan/").content.decode()
        assert f"/laporan/bulanan/{mine.pk}.pdf" in html
        assert f"/laporan/bulanan/{theirs.pk}.pdf" not in html
        assert client.get(f"/laporan/bulanan/{theirs.pk}.pdf").status_code == 404
        response = client.get(f"/laporan/bulanan/{mine.pk}.pdf")
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    asked = []
    monkeypatch.setattr(tasks.monthly_report_task, "delay", lambda *a: asked.append(a))
    client = as_user(tenant_b, "bupati")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/laporan/bulanan/", {"month": f"{year}-{month:02d}"}).status_code == 302
        client.post("/laporan/bulanan/", {"month": "2031-01"})  # not a finished month
    assert asked == [(tenant_b.pk, year, month)]


def test_demo_sidoarjo_month_matches_its_incidents(tenant_b, as_user):
    from incidents.models import Incident

    html = as_user(tenant_b, "supervisor").get("/laporan/").content.decode()
    period = Period.last_days(30, "Asia/Jakarta")
    with schema_context(tenant_b.schema_name):
        counted = Incident.objects.filter(is_test=False, created_at__gte=period.since,
                                          created_at__lt=period.until).count()
        figures = kpis.tenant_kpis(period)
    assert counted > 300 and figures.incidents_total == counted
    assert f'id="kpi-incidents"><a href="/laporan/insiden/?start={period.start}' in html
    assert f">{counted}</a>" in html
    assert len([d for d in figures.incidents_per_day if d["count"]]) >= 28
    assert figures.by_agency and all(r["ack_share"] is not None for r in figures.by_agency)


def test_demo_national_officer_sees_jawa_timur_and_invoices(client_for):
    from accounts.models import User
    from billing.models import Invoice
    from reporting.rollups import live_tenants

    with schema_context("public"):
        officer = User.objects.get(username="nasional")
    html = client_for(None, officer).get("/kpi/provinsi/35/").content.decode()
    assert 'data-region="35.15"' in html
    league = html[html.index('id="league-table"'):]
    assert league.count("<tr data-region=") == 15  # Jawa Timur's live Pemda
    year, month = previous_month(timezone.now().date())
    billed = set(Invoice.objects.filter(period_start=dt.date(year, month, 1))
                 .values_list("tenant_id", flat=True))
    assert billed == set(live_tenants().values_list("pk", flat=True))


@pytest.mark.parametrize("month", ["", "2020-13", "kemarin"])
def test_bad_month_is_refused_with_a_message(tenant_b, as_user, month):
    client = as_user(tenant_b, "supervisor")
    response = client.post("/laporan/bulanan/", {"month": month}, follow=True)
    assert "dua belas bulan terakhir" in response.content.decode()
