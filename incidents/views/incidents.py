"""Incidents: the list, creating one from the console, its page, attaching a call
and closing it."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import Invalid
from core.http import done, post_data, wants_json
from incidents import forms, policies, selectors
from incidents.errors import OperationError
from incidents.models import Call, CallType, Incident, Outcome
from incidents.services import incidents as incident_services
from incidents.views.common import acting_user, allowed, is_test
from referrals import policies as referral_policies
from referrals.selectors import neighbour_tenants, updates_for
from tenants.db import current_schema


def incident_form_context(request: HttpRequest, call: Call | None, **extra: Any) -> dict[str, Any]:
    """The call-taker's incident form, filled from the call's AML position."""
    values = extra.pop("values", None) or {}
    if call is not None and not values:
        values = {
            "latitude": call.aml_lat if call.aml_lat is not None else "",
            "longitude": call.aml_lng if call.aml_lng is not None else "",
        }
    history = selectors.caller_history(call.caller, exclude_call=call.pk) if call else None
    return {
        "call": call,
        "categories": selectors.active_categories(),
        "idempotency_key": values.get("idempotency_key") or uuid.uuid4().hex,
        "values": values,
        "history": history,
        "call_types": CallType.choices,
        **extra,
    }


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
        for i in policies.with_visible_dispatches(request.user, rows)
    ]
    return render(request, "incidents/incident_list.html", {"rows": listed})


@allowed(policies.can_create_incident)
def incident_create(request: HttpRequest) -> HttpResponse:
    data = post_data(request)
    call = None
    try:
        payload = forms.incident_input(data)
        if payload.call_id is not None:
            call = policies.access_call(request.user, payload.call_id)
        result = incident_services.incident_create(
            data=payload,
            actor=acting_user(request),
            is_test=is_test(request),
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
                    "message": offer.error_message(),
                },
                status=409,
            )
        ctx = incident_form_context(request, call, values=data, duplicates=offer.candidates)
        return render(request, "incidents/console.html", ctx, status=200)
    except OperationError as exc:
        if wants_json(request) or exc.status == 404:
            raise  # core.http answers: the JSON error, or the site's 404 page
        ctx = incident_form_context(request, call, values=data, error=exc)
        return render(request, "incidents/console.html", ctx, status=exc.status)
    incident = result.incident
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
    return redirect(reverse("incident", args=[incident.pk]))


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
    dispatches = selectors.dispatch_rows(
        policies.visible_dispatches(user).filter(incident=incident).select_related("agency"), now
    )
    active_agencies = {r.dispatch.agency_id for r in dispatches if r.dispatch.is_active}
    suggestion = [
        a for a in selectors.routing_suggestion(incident.category) if a.pk not in active_agencies
    ]
    can_refer = referral_policies.can_send_referral(user) and incident.is_open
    referral_id = incident.referral_out_id or incident.referral_in_id
    return {
        "incident": incident,
        "caller": selectors.display_caller(incident.caller, full=policies.sees_caller_number(user)),
        "timeline": policies.visible_timeline(user, incident),
        "dispatch_rows": dispatches,
        "suggestion": suggestion,
        "agencies": selectors.active_agencies(exclude=active_agencies),
        "can_dispatch": policies.can_dispatch(user) and incident.is_open,
        "can_supervise": policies.can_supervise(user),
        "can_refer": can_refer,
        "neighbours": list(neighbour_tenants(current_schema())) if can_refer else [],
        "referral_updates": list(updates_for(referral_id)) if referral_id is not None else [],
        "responder_agency": policies.responder_agency(user),
        "outcomes": Outcome.choices,
        "calls": incident.calls.all(),
        # A closed incident's clock stopped when it was closed.
        "age_seconds": int(((incident.closed_at or now) - incident.created_at).total_seconds()),
        "unlinked_calls": (
            selectors.my_active_calls(user) if policies.can_take_calls(user) else []
        ),
    }


@allowed(policies.can_view_incidents)
@require_GET
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    if wants_json(request):
        body = _incident_json(incident, request.user)
        body["timeline"] = [
            {"kind": e.kind, "at": e.at.isoformat(), "actor": e.actor_name, "data": e.data}
            for e in policies.visible_timeline(request.user, incident)
        ]
        body["dispatches"] = [
            {"id": d.pk, "agency": d.agency.code, "status": d.status, "version": d.version}
            for d in policies.visible_dispatches(request.user)
            .filter(incident=incident)
            .select_related("agency")
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


@allowed(policies.can_take_calls)
@require_POST
def incident_attach_call(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    data = post_data(request)
    if not str(data.get("call") or "").strip():
        # A missing field is the sender's mistake to correct (400), not "no such call".
        raise Invalid(_("This field is required."), field="call")
    call = policies.access_call(request.user, data.get("call"))
    incident_services.incident_attach_call(
        incident_id=incident.pk, call_id=call.pk, actor=acting_user(request)
    )
    return done(request, reverse("incident", args=[incident.pk]))


@allowed(policies.can_supervise)
@require_POST
def incident_close(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    data = post_data(request)
    incident_services.incident_close(
        incident_id=incident.pk, actor=acting_user(request), note=str(data.get("note", "")),
        confirm_undispatched=str(data.get("confirm_undispatched", "")) in ("1", "on", "true"),
    )
    return done(request, reverse("incident", args=[incident.pk]))
