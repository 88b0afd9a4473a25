"""National and provincial KPI pages (public site). They read the rollups in the
public schema only (reporting.national); their age is on the page."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from reporting import national, policies
from reporting.models import WINDOW_DAYS, WINDOW_ZONE
from reporting.periods import period_from_request
from reporting.views import period_query
from tenants.models import Region

# National pages count each Pemda's own days, and speak WIB; their default period is
# the one the rollups keep a per-Pemda window row for.
ZONE = WINDOW_ZONE
NATIONAL_LEAGUE_ENDS = 25


def _page(request: HttpRequest, province: Region | None) -> HttpResponse:
    period, form = period_from_request(request.GET, ZONE, default_days=WINDOW_DAYS)
    context: dict[str, Any] = {"form": form, "period": period, "province": province,
                               "scope_title": province.name if province else _("Indonesia")}
    if period is None:
        return render(request, "reporting/national.html", context, status=400)
    code = province.code if province else ""
    sort = request.GET.get("sort", "within_10_share")
    shown = national.page(period, code, sort)
    found, trend = shown.figures, shown.trend
    league: list[dict[str, Any] | None] = list(found.league)
    hidden = 0
    if not province and len(league) > 2 * NATIONAL_LEAGUE_ENDS:
        # The whole country: the top and the bottom; each province page has all of its own.
        hidden = len(league) - 2 * NATIONAL_LEAGUE_ENDS
        league = league[:NATIONAL_LEAGUE_ENDS] + [None] + league[-NATIONAL_LEAGUE_ENDS:]
    context.update(
        totals=found.totals,
        league=league,
        league_hidden=hidden,
        provinces=None if province else found.provinces,
        trend=trend,
        chart={
            "months": [m["month"].strftime("%Y-%m") for m in trend],
            "calls": [m["calls"] for m in trend],
            "incidents": [m["incidents"] for m in trend],
            "within_10": [m["within_10_share"] for m in trend],
        },
        fresh=shown.fresh,
        sort=sort,
        query=period_query(period),
    )
    return render(request, "reporting/national.html", context)


@login_required
@require_GET
def national_page(request: HttpRequest) -> HttpResponse:
    home = policies.home_province(request.user)
    if home:
        return redirect(f"/kpi/provinsi/{home}/?{request.GET.urlencode()}")
    if not policies.can_view_national(request.user):
        raise PermissionDenied(_("These figures are for ministry and provincial officers."))
    return _page(request, None)


@login_required
@require_GET
def province_page(request: HttpRequest, code: str) -> HttpResponse:
    province = Region.objects.filter(pk=code, kind=Region.Kind.PROVINCE).first()
    if province is None or not policies.can_view_province_kpis(request.user, province):
        if policies.can_view_national(request.user) or policies.home_province(request.user):
            raise Http404(_("No such province."))
        raise PermissionDenied(_("These figures are for ministry and provincial officers."))
    return _page(request, province)
