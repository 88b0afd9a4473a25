"""The Pemda's KPI dashboard (tenant site): period picker, charts, drill-down and
exports. Every figure comes from reporting.kpis over one Period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from reporting import exports, kpis, policies
from reporting.periods import Period, period_from_request

ViewFn = Callable[..., HttpResponse]


def allowed(check: Callable[[Any], bool]) -> Callable[[ViewFn], ViewFn]:
    """Login first, then the role; a wrong role gets 403 (nothing here writes)."""

    def decorate(view: ViewFn) -> ViewFn:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                return render(request, "incidents/denied.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def tenant_zone(request: HttpRequest) -> str:
    region = getattr(getattr(request, "tenant", None), "region", None)
    return region.timezone if region is not None else "Asia/Jakarta"


def tenant_slug(request: HttpRequest) -> str:
    region = getattr(getattr(request, "tenant", None), "region", None)
    return region.slug if region is not None else "pemda"


def period_query(period: Period, **extra: Any) -> str:
    params = {"start": period.start.isoformat(), "end": period.end.isoformat()}
    params.update({k: v for k, v in extra.items() if v is not None})
    return urlencode(params)


def _chart_data(figures: kpis.TenantKpis, trend: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "days": [r["day"].isoformat() for r in figures.calls_per_day],
        "call_types": [
            {"key": t, "label": exports._type_label(t),
             "data": [r[t] for r in figures.calls_per_day]}
            for t in figures.call_types
        ],
        "incidents_per_day": [r["count"] for r in figures.incidents_per_day],
        "hours": list(range(24)),
        "calls_by_hour": figures.calls_by_hour,
        "incidents_by_hour": figures.incidents_by_hour,
        "categories": [r["name"] for r in figures.incidents_by_category],
        "category_counts": [r["count"] for r in figures.incidents_by_category],
        "months": [r["month"].strftime("%Y-%m") for r in trend],
        "month_incidents": [r["incidents"] for r in trend],
        "month_calls": [r["calls"] for r in trend],
        "opd": [r["name"] for r in figures.by_agency],
        "opd_ack_share": [r["ack_share"] for r in figures.by_agency],
        "opd_arrive_share": [r["arrive_share"] for r in figures.by_agency],
    }


@allowed(policies.can_view_kpis)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    period, form = period_from_request(request.GET, tenant_zone(request))
    context: dict[str, Any] = {"form": form, "period": period,
                               "drill": policies.can_drill_down(request.user)}
    if period is None:
        return render(request, "reporting/dashboard.html", context, status=400)
    figures = kpis.tenant_kpis(period)
    trend = kpis.monthly_trend(period)
    points = [
        {"id": i.pk, "reference": i.reference, "category": i.category.name,
         "lat": i.latitude, "lng": i.longitude}
        for i in kpis.incidents_behind(period).exclude(latitude=None)[:500]
    ]
    context.update(
        figures=figures,
        chart=_chart_data(figures, trend),
        points=points,
        query=period_query(period),
        exportable=exports.has_rows(figures),
    )
    return render(request, "reporting/dashboard.html", context)


@allowed(policies.can_view_kpis)
@require_GET
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise Http404("no such export format")
    period, form = period_from_request(request.GET, tenant_zone(request))
    if period is None:
        return render(request, "reporting/dashboard.html",
                      {"form": form, "period": None}, status=400)
    figures = kpis.tenant_kpis(period)
    if not exports.has_rows(figures):
        messages.warning(request, _(
            "Nothing to export: no calls, incidents or dispatches were recorded from "
            "%(start)s to %(end)s.") % {"start": period.start.strftime("%d-%m-%Y"),
                                          "end": period.end.strftime("%d-%m-%Y")})
        return redirect(f"{reverse('kpi_dashboard')}?{period_query(period)}")
    slug = tenant_slug(request)
    if fmt == "xlsx":
        body = exports.to_xlsx(figures)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        name = request.GET.get("table", "daily")
        body = exports.to_csv(figures, name if name in exports.TABLES else "daily")
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{exports.filename(slug, figures, fmt)}"'
    )
    return response


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _date_or_none(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@allowed(policies.can_drill_down)
@require_GET
def drill_down(request: HttpRequest) -> HttpResponse:
    """The incidents behind one number of the dashboard."""
    period, form = period_from_request(request.GET, tenant_zone(request))
    if period is None:
        return render(request, "reporting/dashboard.html",
                      {"form": form, "period": None}, status=400)
    hour = _int_or_none(request.GET.get("hour"))
    filters = {
        "category": request.GET.get("category", ""),
        "kecamatan": request.GET.get("kecamatan"),
        "hour": hour if hour is not None and 0 <= hour < 24 else None,
        "day": _date_or_none(request.GET.get("day")),
    }
    query = kpis.incidents_behind(period, **filters)  # type: ignore[arg-type]
    return render(
        request,
        "reporting/drill_down.html",
        {"period": period, "rows": query[:500], "total": query.count(), "filters": filters,
         "back": f"{reverse('kpi_dashboard')}?{period_query(period)}"},
    )


# --- the Bupati's monthly reports ------------------------------------------------------


def _report_months(zone: str, count: int = 12) -> list[tuple[str, str]]:
    import zoneinfo

    from django.utils import timezone

    from reporting.monthly import month_label
    from reporting.periods import previous_month

    today = timezone.now().astimezone(zoneinfo.ZoneInfo(zone)).date()
    out = []
    for _i in range(count):
        year, month = previous_month(today)
        out.append((f"{year}-{month:02d}", month_label(year, month)))
        today = dt.date(year, month, 1)
    return out


@allowed(policies.can_view_kpis)
def monthly_reports(request: HttpRequest) -> HttpResponse:
    from django.db import transaction

    from reporting.models import MonthlyReport
    from reporting.tasks import monthly_report_task

    tenant = request.tenant  # type: ignore[attr-defined]
    months = _report_months(tenant_zone(request))
    if request.method == "POST":
        asked = request.POST.get("month", "")
        if asked not in dict(months):
            messages.error(request, _("Choose one of the last twelve finished months."))
            return redirect("kpi_monthly")
        year, month = (int(part) for part in asked.split("-"))
        transaction.on_commit(lambda: monthly_report_task.delay(tenant.pk, year, month))
        messages.success(request, _(
            "The report for %(month)s is being prepared; it appears here in a minute.")
            % {"month": dict(months)[asked]})
        return redirect("kpi_monthly")
    return render(request, "reporting/monthly_list.html", {
        "reports": MonthlyReport.objects.filter(tenant=tenant),
        "months": months,
    })


@allowed(policies.can_view_kpis)
@require_GET
def monthly_report_download(request: HttpRequest, report_id: int) -> HttpResponse:
    from reporting.models import MonthlyReport

    tenant = request.tenant  # type: ignore[attr-defined]
    report = MonthlyReport.objects.filter(pk=report_id, tenant=tenant).first()
    if report is None or not report.file:
        raise Http404("no such report")
    with report.file.open("rb") as handle:
        response = HttpResponse(handle.read(), content_type="application/pdf")
    name = (report.file.name or "laporan.pdf").rsplit("/", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
