"""Each role's screen: the landing redirect, the call-taker's console, the OPD
responder's, the supervisor's board and handover, the leadership dashboard."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from core.errors import Invalid
from core.http import done, post_data
from core.rules import in_indonesia
from incidents import call_routing, live, policies, selectors
from incidents.models import Incident, Outcome
from incidents.services import handover as handover_services
from incidents.services import presence as presence_services
from incidents.services.common import incident_settings
from incidents.views.common import acting_user, allowed
from incidents.views.incidents import incident_form_context
from incidents.views.live import conditional

LANDING: dict[str, str] = {
    Role.CALL_TAKER: "console",
    Role.SUPERVISOR: "supervisor",
    Role.OPD_RESPONDER: "opd",
    Role.PEMDA_ADMIN: "manage_users",
    # The Bupati's screen is the Pemda's KPI dashboard (reporting), named, not imported.
    Role.VIEWER: "kpi_dashboard",
}


@login_required
def console_home(request: HttpRequest) -> HttpResponse:
    """Everyone lands on the screen of their role."""
    target = LANDING.get(str(getattr(request.user, "role", "")))
    if target is None or not request.user.is_active:
        return render(request, "incidents/denied.html", status=403)
    return redirect(target)


# --- call-taker ---------------------------------------------------------------------------


@allowed(policies.can_take_calls)
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    call = None
    if request.GET.get("call"):
        call = policies.access_call(request.user, request.GET["call"])
    context = incident_form_context(request, call)
    # The pages of the two polled lists this screen was opened on.
    context["calls_page"] = selectors.page_number(request.GET.get("calls_page"))
    context["incidents_page"] = selectors.page_number(request.GET.get("incidents_page"))
    return render(request, "incidents/console.html", context)


def _ringing(request: HttpRequest) -> call_routing.RingingView:
    """What rings for this user (incidents.call_routing), once per request: the ETag's
    clock token and the rendering read the same."""
    found = getattr(request, "_ringing_view", None)
    if found is None:
        found = call_routing.ringing_for(request.user)
        request._ringing_view = found  # type: ignore[attr-defined]
    return found


def _ringing_clock(request: HttpRequest) -> tuple[str, float | None]:
    view = _ringing(request)
    return view.token, view.until


def with_line_labels(calls: list[Any]) -> list[Any]:
    """Each call's trunk as people say it (the Pemda's names, else a fallback)."""
    if not calls:
        return calls
    labels = incident_settings().trunk_labels
    for call in calls:
        call.line = selectors.line_label(call.trunk, labels)
    return calls


@allowed(policies.can_take_calls)
@require_GET
@conditional([live.CALLS, live.PRESENCE], extra=_ringing_clock)
def console_calls(request: HttpRequest) -> HttpResponse:
    ringing = selectors.page_of(_ringing(request).calls,
                                selectors.page_number(request.GET.get("page")),
                                selectors.RINGING_PAGE)
    with_line_labels(ringing.rows)
    return render(
        request,
        "incidents/partials/calls.html",
        {"ringing": ringing, "mine": selectors.my_active_calls(request.user)},
    )


@allowed(policies.can_take_calls)
@require_GET
@conditional([live.CALLS, live.PRESENCE], extra=_ringing_clock, heartbeat=True)
def ringing_alert(request: HttpRequest) -> HttpResponse:
    """What every page of the tenant site polls for a call-taker: how many calls ring
    for them (incidents.call_routing) and which one Alt+Shift+J answers (the oldest).
    Tiny, a 304 while nothing rings anew (incidents.live), and the call-taker's
    presence heartbeat."""
    ringing = _ringing(request)
    oldest = ringing.calls.first() if ringing.count else None
    return render(request, "incidents/partials/ringing_alert.html",
                  {"count": ringing.count, "oldest": oldest})


@allowed(policies.can_take_calls)
@require_POST
def presence_update(request: HttpRequest) -> HttpResponse:
    """The call-taker sets themselves available or away (navbar)."""
    data = post_data(request)
    presence_services.presence_set(user=acting_user(request), status=str(data.get("status", "")),
                                   actor=acting_user(request))
    back = str(data.get("next", ""))
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = reverse("console")
    return done(request, back, {"status": call_routing.own_presence(request.user)})


@allowed(policies.can_supervise)
@require_GET
@conditional([live.CALLS, live.PRESENCE])
def presence_board(request: HttpRequest) -> HttpResponse:
    """Who of the call-takers is available, on a call (since when) or away."""
    return render(request, "incidents/partials/presence_board.html",
                  {"rows": call_routing.presence_board()})


def _visible(request: HttpRequest) -> QuerySet[Incident]:
    """This user's incidents with this user's dispatches: the rule lives in policies."""
    return policies.with_visible_dispatches(request.user, policies.visible_incidents(request.user))


@allowed(policies.can_view_incidents)
@require_GET
@conditional([live.INCIDENTS, live.DISPATCHES])
def console_incidents(request: HttpRequest) -> HttpResponse:
    page = selectors.incident_open_page(
        _visible(request), selectors.page_number(request.GET.get("page"))
    )
    return render(
        request,
        "incidents/partials/open_incidents.html",
        {
            "rows": page.rows,
            "page": page,
            "full_caller": policies.sees_caller_number(request.user),
        },
    )


@allowed(policies.can_view_incidents)
@require_GET
@conditional([live.INCIDENTS, live.DISPATCHES])
def map_json(request: HttpRequest) -> HttpResponse:
    incidents = (
        policies.visible_incidents(request.user)
        .filter(pk__in=selectors.open_incidents().values("pk"))
        .select_related("category")
    )
    # The map shows the most urgent open incidents, as many as the list's first pages.
    limit = 4 * selectors.INCIDENTS_PAGE
    points = selectors.map_points(incidents.order_by("priority", "-created_at")[:limit])
    body: dict[str, Any] = {"incidents": points}
    near = request.GET.get("near")
    if near:
        # The caller's position (?near=lat,lng): the open incidents around it are on
        # the map whatever their priority, with their distance, nearest first.
        lat, lng = _point(near)
        pairs = selectors.open_incidents_near(incidents, lat=lat, lng=lng)
        distance = {i.pk: round(d) for i, d in pairs}
        shown = {p["id"] for p in points}
        points.extend(selectors.map_points([i for i, _d in pairs if i.pk not in shown]))
        for p in points:
            if p["id"] in distance:
                p["distance_m"] = distance[p["id"]]
        body["near"] = [i.pk for i, _d in pairs]
        body["near_radius_m"] = selectors.NEARBY_RADIUS_M
    return JsonResponse(body)


def _point(value: str) -> tuple[float, float]:
    try:
        lat, lng = (float(v) for v in value.split(","))
    except ValueError:
        raise Invalid(_("near must be 'latitude,longitude'."), field="near") from None
    if not in_indonesia(lat, lng, margin=1.0):
        raise Invalid(_("near must be a point in Indonesia."), field="near")
    return lat, lng


# --- OPD responder ------------------------------------------------------------------------


@allowed(policies.is_responder)
@require_GET
def opd_console(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/opd.html",
        {
            "agency": policies.responder_agency(request.user),
            "page_number": selectors.page_number(request.GET.get("page")),
        },
    )


@allowed(policies.is_responder)
@require_GET
@conditional([live.DISPATCHES, live.INCIDENTS])
def opd_dispatches(request: HttpRequest) -> HttpResponse:
    agency = policies.responder_agency(request.user)
    page = (
        selectors.dispatch_page(
            selectors.active_dispatches_for(agency),
            selectors.page_number(request.GET.get("page")),
        )
        if agency
        else None
    )
    resolved = selectors.recent_resolved_for(agency)[:20] if agency else []
    return render(
        request,
        "incidents/partials/opd_dispatches.html",
        {
            "rows": page.rows if page else [],
            "page": page,
            "resolved": resolved,
            "outcomes": Outcome.choices,
            "agency": agency,
        },
    )


# --- supervisor and leadership --------------------------------------------------------------


@allowed(policies.can_supervise)
@require_GET
def supervisor_console(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/supervisor.html",
        {
            "agencies": selectors.active_agencies(),
            "page_number": selectors.page_number(request.GET.get("page")),
        },
    )


@allowed(policies.can_supervise)
@require_GET
@conditional([live.INCIDENTS, live.DISPATCHES, live.CALLS])
def supervisor_board(request: HttpRequest) -> HttpResponse:
    page = selectors.incident_open_page(
        _visible(request), selectors.page_number(request.GET.get("page"))
    )
    return render(
        request,
        "incidents/partials/supervisor_board.html",
        {
            "rows": page.rows,
            "page": page,
            # Escalations and ringing calls: the first page of each, with their totals.
            "escalated": selectors.dispatch_page(selectors.escalated_dispatches(), 1),
            "ringing": selectors.ringing_page(1),
            "agencies": selectors.active_agencies(),
            "full_caller": True,
        },
    )


@allowed(policies.can_view_handover)
@require_GET
def handover(request: HttpRequest) -> HttpResponse:
    hours = 12 if request.GET.get("hours") == "12" else 8
    return render(
        request,
        "incidents/handover.html",
        {"summary": selectors.handover_summary(hours), "hours": hours,
         "notes": selectors.handover_notes(),
         "can_write_notes": policies.can_supervise(request.user),
         "presence_board": policies.can_supervise(request.user)},
    )


@allowed(policies.can_supervise)
@require_POST
def handover_note(request: HttpRequest) -> HttpResponse:
    data = post_data(request)
    note = handover_services.handover_note_write(actor=acting_user(request),
                                        text=str(data.get("text", "")))
    return done(request, reverse("handover"), {"note": note.pk})


@allowed(policies.can_supervise)
@require_POST
def handover_ack(request: HttpRequest, note_id: int) -> HttpResponse:
    note = handover_services.handover_note_acknowledge(note_id=note_id,
                                                       actor=acting_user(request))
    return done(request, reverse("handover"), {"note": note.pk})


@allowed(policies.can_view_dashboard)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/dashboard.html",
        {
            "figures": selectors.dashboard_figures(),
            "rows": selectors.incident_open_page(_visible(request), 1).rows,
            "full_caller": policies.sees_caller_number(request.user),
            "show_incidents": policies.can_view_incidents(request.user),
        },
    )
