"""The Pemda's call center screens: thin views over policies, selectors and services.

Answers: HTML for the browser (htmx partials for the live parts), JSON when the
client asks for it (Accept: application/json). Refused input is a 4xx with a
message a person can act on; services roll back so nothing is half-saved.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role, User
from incidents import policies, selectors
from incidents.errors import OperationError
from incidents.models import (
    Agency,
    AgencyMember,
    Call,
    CallType,
    Category,
    Incident,
    IncidentSettings,
    NumberBlock,
    Outcome,
    PbxCredential,
    RoutingRule,
)
from incidents.services import calls, dispatching, pbx, referring, setup
from incidents.services import incidents as incident_services

ViewFn = Callable[..., HttpResponse]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "") or (
        request.content_type == "application/json"
    )


def _is_test(request: HttpRequest) -> bool:
    tenant = getattr(request, "tenant", None)
    return bool(getattr(tenant, "in_trial", False))


def allowed(check: Callable[[Any], bool]) -> Callable[[ViewFn], ViewFn]:
    """Login required, then `check(user)`; a wrong role gets 403 and changes nothing."""

    def decorate(view: ViewFn) -> ViewFn:
        @login_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not check(request.user):
                if wants_json(request):
                    return JsonResponse({"error": _("Your role may not do this.")}, status=403)
                return render(request, "incidents/denied.html", status=403)
            try:
                return view(request, *args, **kwargs)
            except OperationError as exc:
                return fail(request, exc)

        return wrapper

    return decorate


def fail(request: HttpRequest, exc: OperationError) -> HttpResponse:
    if exc.status == 404:
        raise Http404(exc.message)
    if wants_json(request):
        return JsonResponse(exc.as_json(), status=exc.status)
    if request.headers.get("HX-Request"):
        return HttpResponse(_(exc.message), status=exc.status, content_type="text/plain")
    return render(request, "incidents/error.html", {"error": exc}, status=exc.status)


def done(request: HttpRequest, url: str, data: dict[str, Any] | None = None) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"ok": True, **(data or {})})
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _post_data(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise OperationError("The body is not valid JSON.", field="body") from None
        if not isinstance(body, dict):
            raise OperationError("The body must be a JSON object.", field="body")
        return body
    return {k: (v if len(v) > 1 else v[0]) for k, v in request.POST.lists()}


def _list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


# --- landing ---------------------------------------------------------------------------

LANDING: dict[str, str] = {
    Role.CALL_TAKER: "console",
    Role.SUPERVISOR: "supervisor",
    Role.OPD_RESPONDER: "opd",
    Role.PEMDA_ADMIN: "manage_users",
    Role.VIEWER: "dashboard",
}


@login_required
def console_home(request: HttpRequest) -> HttpResponse:
    """Everyone lands on the screen of their role."""
    target = LANDING.get(str(getattr(request.user, "role", "")))
    if target is None or not request.user.is_active:
        return render(request, "incidents/denied.html", status=403)
    return redirect(target)


# --- call-taker console ------------------------------------------------------------------


def _incident_form_context(request: HttpRequest, call: Call | None, **extra: Any) -> dict[str, Any]:
    values = extra.pop("values", None) or {}
    if call is not None and not values:
        values = {
            "latitude": call.aml_lat if call.aml_lat is not None else "",
            "longitude": call.aml_lng if call.aml_lng is not None else "",
        }
    history = selectors.caller_history(call.caller, exclude_call=call.pk) if call else None
    return {
        "call": call,
        "categories": Category.objects.filter(active=True),
        "idempotency_key": values.get("idempotency_key") or uuid.uuid4().hex,
        "values": values,
        "history": history,
        "call_types": CallType.choices,
        **extra,
    }


@allowed(policies.can_take_calls)
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    call = None
    if request.GET.get("call"):
        call = policies.access_call(request.user, request.GET["call"])
    return render(request, "incidents/console.html", _incident_form_context(request, call))


@allowed(policies.can_take_calls)
@require_GET
def console_calls(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/partials/calls.html",
        {"ringing": selectors.ringing_calls(), "mine": selectors.my_active_calls(request.user)},
    )


@allowed(policies.can_view_incidents)
@require_GET
def console_incidents(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/partials/open_incidents.html",
        {
            "rows": selectors.incident_open_rows(),
            "full_caller": policies.sees_caller_number(request.user),
        },
    )


@allowed(policies.can_view_incidents)
@require_GET
def map_json(request: HttpRequest) -> HttpResponse:
    incidents = (
        policies.visible_incidents(request.user)
        .filter(pk__in=selectors.open_incidents().values("pk"))
        .select_related("category")
    )
    return JsonResponse({"incidents": selectors.map_points(incidents)})


@allowed(policies.can_take_calls)
@require_POST
def call_answer(request: HttpRequest, call_id: int) -> HttpResponse:
    call = policies.access_call(request.user, call_id)
    calls.call_answer(call_id=call.pk, operator=_user(request))
    return done(request, f"{reverse('console')}?call={call.pk}", {"call": call.pk})


@allowed(policies.can_take_calls)
@require_POST
def call_classify(request: HttpRequest, call_id: int) -> HttpResponse:
    call = policies.access_call(request.user, call_id)
    data = _post_data(request)
    _call, block = calls.call_classify(
        call_id=call.pk, call_type=str(data.get("call_type", "")), actor=_user(request)
    )
    if block is not None and not wants_json(request):
        messages.warning(
            request,
            _("%(number)s is now blocked until %(until)s (repeated prank/ghost calls).")
            % {
                "number": block.number,
                "until": date_format(timezone.localtime(block.blocked_until), "DATETIME_FORMAT"),
            },
        )
    return done(
        request,
        reverse("console"),
        {
            "call": call.pk,
            "blocked": block is not None,
            "until": block.blocked_until.isoformat() if block else None,
        },
    )


# --- incidents -----------------------------------------------------------------------------


def _incident_input(data: dict[str, Any]) -> incident_services.IncidentInput:
    call_raw = str(data.get("call") or "").strip()
    if call_raw and not call_raw.isdigit():
        raise OperationError("call must be a call id", field="call")
    return incident_services.IncidentInput(
        category=str(data.get("category") or ""),
        description=str(data.get("description") or ""),
        latitude=data.get("latitude"),
        longitude=data.get("longitude"),
        address=str(data.get("address") or ""),
        kecamatan=str(data.get("kecamatan") or ""),
        kelurahan=str(data.get("kelurahan") or ""),
        caller=str(data.get("caller") or ""),
        call_id=int(call_raw) if call_raw else None,
        idempotency_key=str(data.get("idempotency_key") or ""),
    )


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return incident_create(request)
    if not policies.can_view_incidents(request.user):
        return render(request, "incidents/denied.html", status=403)
    rows = selectors.incident_search(
        policies.visible_incidents(request.user),
        request.GET.get("q", ""),
        request.GET.get("status", ""),
    )[:200]
    if wants_json(request):
        return JsonResponse({"incidents": [_incident_json(i, request.user) for i in rows]})
    now = timezone.now()
    listed = [
        {"incident": i, "overdue": i.is_open and selectors.incident_is_overdue(i, now)}
        for i in rows.prefetch_related("dispatches")
    ]
    return render(request, "incidents/incident_list.html", {"rows": listed})


@allowed(policies.can_create_incident)
def incident_create(request: HttpRequest) -> HttpResponse:
    data = _post_data(request)
    call = None
    try:
        payload = _incident_input(data)
        if payload.call_id is not None:
            call = policies.access_call(request.user, payload.call_id)
        result = incident_services.incident_create(
            data=payload,
            actor=_user(request),
            is_test=_is_test(request),
            force=str(data.get("force", "")) in ("1", "true", "True"),
        )
    except incident_services.DuplicateOffer as offer:
        if wants_json(request):
            return JsonResponse(
                {
                    "duplicate": True,
                    "candidates": [
                        {"id": i.pk, "reference": i.reference} for i in offer.candidates
                    ],
                    "message": _("A similar open incident exists: link to it, or send force=1."),
                },
                status=409,
            )
        ctx = _incident_form_context(request, call, values=data, duplicates=offer.candidates)
        return render(request, "incidents/console.html", ctx, status=200)
    except OperationError as exc:
        if wants_json(request) or exc.status == 404:
            return fail(request, exc)
        ctx = _incident_form_context(request, call, values=data, error=exc)
        return render(request, "incidents/console.html", ctx, status=exc.status)
    incident = result.incident
    url = reverse("incident", args=[incident.pk])
    if wants_json(request):
        return JsonResponse(
            {
                "ok": True,
                "created": result.created,
                "id": incident.pk,
                "reference": incident.reference,
                "outside_area": incident.outside_area,
            },
            status=201 if result.created else 200,
        )
    return redirect(url)


def _incident_json(incident: Incident, user: Any) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "reference": incident.reference,
        "category": incident.category.code,
        "priority": incident.priority,
        "status": incident.status,
        "latitude": incident.latitude,
        "longitude": incident.longitude,
        "address": incident.address,
        "outside_area": incident.outside_area,
        "caller": selectors.display_caller(incident.caller, full=policies.sees_caller_number(user)),
        "created_at": incident.created_at.isoformat(),
    }


def _incident_context(request: HttpRequest, incident: Incident) -> dict[str, Any]:
    user = request.user
    now = timezone.now()
    dispatches = selectors.dispatch_rows(incident.dispatches.all(), now)
    active_agencies = {r.dispatch.agency_id for r in dispatches if r.dispatch.is_active}
    suggestion = [
        a for a in selectors.routing_suggestion(incident.category) if a.pk not in active_agencies
    ]
    ctx: dict[str, Any] = {
        "incident": incident,
        "caller": selectors.display_caller(incident.caller, full=policies.sees_caller_number(user)),
        "timeline": incident.timeline.select_related("dispatch__agency").all(),
        "dispatch_rows": dispatches,
        "suggestion": suggestion,
        "agencies": Agency.objects.filter(active=True).exclude(pk__in=active_agencies),
        "can_dispatch": policies.can_dispatch(user) and incident.is_open,
        "can_supervise": policies.can_supervise(user),
        "can_refer": policies.can_refer(user) and incident.is_open,
        "responder_agency": policies.responder_agency(user),
        "outcomes": Outcome.choices,
        "calls": incident.calls.all(),
        "age_seconds": int((now - incident.created_at).total_seconds()),
        "unlinked_calls": (
            selectors.my_active_calls(user) if policies.can_take_calls(user) else []
        ),
    }
    if ctx["can_refer"] or incident.referral_out_id or incident.referral_in_id:
        try:
            ctx["neighbours"] = selectors.referral_neighbours() if ctx["can_refer"] else []
            ctx["referral_updates"] = selectors.referral_updates(
                incident.referral_out_id or incident.referral_in_id
            )
        except ImportError:  # referrals app not wired yet
            ctx["neighbours"], ctx["referral_updates"] = [], []
    return ctx


@allowed(policies.can_view_incidents)
@require_GET
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    if wants_json(request):
        body = _incident_json(incident, request.user)
        body["timeline"] = [
            {"kind": e.kind, "at": e.at.isoformat(), "actor": e.actor_name, "data": e.data}
            for e in incident.timeline.all()
        ]
        body["dispatches"] = [
            {"id": d.pk, "agency": d.agency.code, "status": d.status, "version": d.version}
            for d in incident.dispatches.select_related("agency")
        ]
        return JsonResponse(body)
    return render(request, "incidents/incident_detail.html", _incident_context(request, incident))


@allowed(policies.can_view_incidents)
@require_GET
def incident_live(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    return render(
        request, "incidents/partials/incident_live.html", _incident_context(request, incident)
    )


@allowed(policies.can_dispatch)
@require_POST
def incident_dispatch(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    data = _post_data(request)
    dispatches = dispatching.dispatch_create(
        incident_id=incident.pk, agency_ids=_list(data.get("agency")), actor=_user(request)
    )
    return done(
        request, reverse("incident", args=[incident.pk]), {"dispatches": [d.pk for d in dispatches]}
    )


@allowed(policies.can_take_calls)
@require_POST
def incident_attach_call(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    data = _post_data(request)
    call = policies.access_call(request.user, data.get("call"))
    incident_services.incident_attach_call(
        incident_id=incident.pk, call_id=call.pk, actor=_user(request)
    )
    return done(request, reverse("incident", args=[incident.pk]))


@allowed(policies.can_supervise)
@require_POST
def incident_close(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    data = _post_data(request)
    incident_services.incident_close(
        incident_id=incident.pk, actor=_user(request), note=str(data.get("note", ""))
    )
    return done(request, reverse("incident", args=[incident.pk]))


@allowed(policies.can_refer)
@require_POST
def incident_refer(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    data = _post_data(request)
    referring.incident_refer(
        incident_id=incident.pk, to_schema=str(data.get("to_schema", "")), actor=_user(request)
    )
    return done(request, reverse("incident", args=[incident.pk]))


# --- dispatch follow-up ---------------------------------------------------------------------


@allowed(lambda u: u.has_role(Role.OPD_RESPONDER))
@require_POST
def dispatch_advance(request: HttpRequest, dispatch_id: int) -> HttpResponse:
    dispatch = policies.access_dispatch_for_update(request.user, dispatch_id)
    data = _post_data(request)
    version_raw = str(data.get("version", "")).strip()
    if version_raw and not version_raw.isdigit():
        raise OperationError("version must be a whole number", field="version")
    updated = dispatching.dispatch_advance(
        dispatch_id=dispatch.pk,
        to_status=str(data.get("status", "")),
        actor=_user(request),
        expected_version=int(version_raw) if version_raw else None,
        outcome=str(data.get("outcome", "")),
        note=str(data.get("note", "")),
    )
    return done(request, reverse("opd"), {"status": updated.status, "version": updated.version})


@allowed(policies.can_supervise)
@require_POST
def dispatch_reassign(request: HttpRequest, dispatch_id: int) -> HttpResponse:
    dispatch = policies.access_dispatch_for_supervision(request.user, dispatch_id)
    data = _post_data(request)
    new = dispatching.dispatch_reassign(
        dispatch_id=dispatch.pk, agency_id=data.get("agency"), actor=_user(request)
    )
    return done(request, reverse("incident", args=[dispatch.incident_id]), {"dispatch": new.pk})


def _is_responder(user: Any) -> bool:
    return bool(user.has_role(Role.OPD_RESPONDER))


@allowed(_is_responder)
@require_GET
def opd_console(request: HttpRequest) -> HttpResponse:
    return render(
        request, "incidents/opd.html", {"agency": policies.responder_agency(request.user)}
    )


@allowed(_is_responder)
@require_GET
def opd_dispatches(request: HttpRequest) -> HttpResponse:
    agency = policies.responder_agency(request.user)
    rows = selectors.dispatch_rows(selectors.active_dispatches_for(agency)) if agency else []
    resolved = selectors.recent_resolved_for(agency)[:20] if agency else []
    return render(
        request,
        "incidents/partials/opd_dispatches.html",
        {"rows": rows, "resolved": resolved, "outcomes": Outcome.choices, "agency": agency},
    )


# --- supervisor -----------------------------------------------------------------------------


@allowed(policies.can_supervise)
@require_GET
def supervisor_console(request: HttpRequest) -> HttpResponse:
    return render(
        request, "incidents/supervisor.html", {"agencies": Agency.objects.filter(active=True)}
    )


@allowed(policies.can_supervise)
@require_GET
def supervisor_board(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/partials/supervisor_board.html",
        {
            "rows": selectors.incident_open_rows(),
            "escalated": selectors.dispatch_rows(selectors.escalated_dispatches()),
            "ringing": selectors.ringing_calls(),
            "agencies": Agency.objects.filter(active=True),
            "full_caller": True,
        },
    )


@allowed(lambda u: policies.can_supervise(u) or u.has_role(Role.VIEWER))
@require_GET
def handover(request: HttpRequest) -> HttpResponse:
    hours = 12 if request.GET.get("hours") == "12" else 8
    return render(
        request,
        "incidents/handover.html",
        {"summary": selectors.handover_summary(hours), "hours": hours},
    )


@allowed(policies.can_supervise)
@require_GET
def blocks(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/blocks.html",
        {
            "active": selectors.active_blocks(),
            "recent": NumberBlock.objects.exclude(pk__in=selectors.active_blocks().values("pk"))[
                :50
            ],
            "now": timezone.now(),
        },
    )


@allowed(policies.can_supervise)
@require_POST
def block_lift(request: HttpRequest, block_id: int) -> HttpResponse:
    calls.number_block_lift(block_id=block_id, actor=_user(request))
    return done(request, reverse("blocks"))


@allowed(policies.can_view_dashboard)
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/dashboard.html",
        {
            "figures": selectors.dashboard_figures(),
            "rows": selectors.incident_open_rows(),
            "full_caller": policies.sees_caller_number(request.user),
            "show_incidents": policies.can_view_incidents(request.user),
        },
    )


# --- referrals --------------------------------------------------------------------------------


@allowed(policies.can_refer)
@require_GET
def referral_inbox(request: HttpRequest) -> HttpResponse:
    try:
        inbox = selectors.referral_inbox()
    except ImportError:
        inbox = []
    return render(request, "incidents/referrals.html", {"inbox": inbox})


@allowed(policies.can_refer)
@require_POST
def referral_decline(request: HttpRequest, referral_id: int) -> HttpResponse:
    data = _post_data(request)
    referring.referral_incident_decline(
        referral_id=referral_id, actor=_user(request), reason=str(data.get("reason", ""))
    )
    return done(request, reverse("referrals"))


@allowed(policies.can_refer)
@require_POST
def referral_accept(request: HttpRequest, referral_id: int) -> HttpResponse:
    incident = referring.referral_incident_accept(
        referral_id=referral_id, actor=_user(request), is_test=_is_test(request)
    )
    return done(request, reverse("incident", args=[incident.pk]), {"incident": incident.pk})


# --- Pemda admin --------------------------------------------------------------------------------


@allowed(policies.can_administer)
def manage_users(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        data = _post_data(request)
        user_id = str(data.get("user_id") or "")
        setup.staff_save(
            actor=_user(request),
            user_id=int(user_id) if user_id.isdigit() else None,
            username=str(data.get("username", "")),
            display_name=str(data.get("display_name", "")),
            role=str(data.get("role", "")),
            agency_id=data.get("agency") or None,
            password=str(data.get("password", "")),
            active=str(data.get("active", "1")) in ("1", "on", "true"),
        )
        return done(request, reverse("manage_users"))
    members = {m.user_id: m.agency for m in AgencyMember.objects.select_related("agency")}
    users = [
        {"user": u, "agency": members.get(u.pk)} for u in User.objects.order_by("role", "username")
    ]
    return render(
        request,
        "incidents/manage/users.html",
        {
            "users": users,
            "roles": [(r, label) for r, label in Role.choices if r in setup.TENANT_ROLE_VALUES],
            "agencies": Agency.objects.filter(active=True),
        },
    )


@allowed(policies.can_administer)
def manage_agencies(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        data = _post_data(request)
        agency_id = str(data.get("agency_id") or "")
        secret = data.get("webhook_secret")
        setup.agency_save(
            actor=_user(request),
            agency_id=int(agency_id) if agency_id.isdigit() else None,
            code=str(data.get("code", "")),
            name=str(data.get("name", "")),
            kind=str(data.get("kind", "other")),
            email=str(data.get("email", "")),
            webhook_url=str(data.get("webhook_url", "")),
            webhook_secret=str(secret) if secret else None,
            active=str(data.get("active", "1")) in ("1", "on", "true"),
        )
        return done(request, reverse("manage_agencies"))
    return render(
        request,
        "incidents/manage/agencies.html",
        {"agencies": Agency.objects.all(), "kinds": Agency.Kind.choices},
    )


@allowed(policies.can_administer)
def manage_categories(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        data = _post_data(request)
        category_id = str(data.get("category_id") or "")
        if not category_id.isdigit():
            raise OperationError("No such category.", status=404)
        if "routing" in data:
            codes = [c.strip() for c in str(data.get("agency_codes", "")).split(",") if c.strip()]
            by_code = dict(Agency.objects.filter(code__in=codes).values_list("code", "pk"))
            unknown = [c for c in codes if c not in by_code]
            if unknown:
                raise OperationError(
                    _("Unknown agency code: %(codes)s") % {"codes": ", ".join(unknown)},
                    field="agency_codes",
                )
            setup.routing_rules_set(
                category_id=int(category_id),
                agency_ids=[by_code[c] for c in codes] or _list(data.get("agency")),
                actor=_user(request),
            )
        else:
            setup.category_update(
                category_id=int(category_id),
                actor=_user(request),
                name=str(data.get("name", "")),
                priority=data.get("priority"),
                ack_target_minutes=data.get("ack_target_minutes"),
                arrive_target_minutes=data.get("arrive_target_minutes"),
                active=str(data.get("active", "")) in ("1", "on", "true"),
            )
        return done(request, reverse("manage_categories"))
    rules: dict[int, list[str]] = {}
    for rule in RoutingRule.objects.select_related("agency").order_by("order"):
        rules.setdefault(rule.category_id, []).append(rule.agency.code)
    categories = [
        {"category": c, "agency_codes": rules.get(c.pk, [])} for c in Category.objects.all()
    ]
    return render(
        request,
        "incidents/manage/categories.html",
        {
            "categories": categories,
            "agencies": Agency.objects.filter(active=True),
            "priorities": [(1, _("Critical")), (2, _("High")), (3, _("Medium")), (4, _("Low"))],
        },
    )


@allowed(policies.can_administer)
def manage_pbx(request: HttpRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        data = _post_data(request)
        cred, new_key = pbx.pbx_credential_create(
            name=str(data.get("name", "")), actor=_user(request)
        )
        if wants_json(request):
            return JsonResponse({"ok": True, "id": cred.pk, "key": new_key}, status=201)
    return render(
        request,
        "incidents/manage/pbx.html",
        {
            "credentials": PbxCredential.objects.all(),
            "new_key": new_key,
            "endpoint": request.build_absolute_uri(reverse("pbx_events")),
            "aml_endpoint": request.build_absolute_uri(reverse("pbx_aml")),
        },
    )


@allowed(policies.can_administer)
@require_POST
def manage_pbx_revoke(request: HttpRequest, credential_id: int) -> HttpResponse:
    pbx.pbx_credential_revoke(credential_id=credential_id, actor=_user(request))
    return done(request, reverse("manage_pbx"))


@allowed(policies.can_administer)
def manage_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        setup.settings_update(actor=_user(request), values=_post_data(request))
        return done(request, reverse("manage_settings"))
    return render(request, "incidents/manage/settings.html", {"cfg": IncidentSettings.load()})
