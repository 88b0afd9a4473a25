"""Dispatching agencies to an incident and the follow-up: the responder's steps and
the supervisor's reassignment."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.http import done, post_data
from incidents import forms, policies
from incidents.services import dispatching
from incidents.views.common import acting_user, allowed


@allowed(policies.can_dispatch)
@require_POST
def incident_dispatch(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    data = post_data(request)
    dispatches = dispatching.dispatch_create(
        incident_id=incident.pk,
        agency_ids=forms.as_list(data.get("agency")),
        actor=acting_user(request),
    )
    return done(
        request, reverse("incident", args=[incident.pk]), {"dispatches": [d.pk for d in dispatches]}
    )


@allowed(policies.is_responder)
@require_POST
def dispatch_advance(request: HttpRequest, dispatch_id: int) -> HttpResponse:
    dispatch = policies.access_dispatch_for_update(request.user, dispatch_id)
    data = post_data(request)
    updated = dispatching.dispatch_advance(
        dispatch_id=dispatch.pk,
        to_status=str(data.get("status", "")),
        actor=acting_user(request),
        expected_version=forms.expected_version(data),
        outcome=str(data.get("outcome", "")),
        note=str(data.get("note", "")),
    )
    return done(request, reverse("opd"), {"status": updated.status, "version": updated.version})


@allowed(policies.is_responder)
@require_POST
def dispatch_no_unit(request: HttpRequest, dispatch_id: int) -> HttpResponse:
    dispatch = policies.access_dispatch_for_update(request.user, dispatch_id)
    data = post_data(request)
    updated = dispatching.dispatch_no_unit(
        dispatch_id=dispatch.pk, actor=acting_user(request), reason=str(data.get("reason", ""))
    )
    return done(request, reverse("opd"), {"status": updated.status, "version": updated.version})


@allowed(policies.can_supervise)
@require_POST
def dispatch_reassign(request: HttpRequest, dispatch_id: int) -> HttpResponse:
    dispatch = policies.access_dispatch_for_supervision(request.user, dispatch_id)
    data = post_data(request)
    new = dispatching.dispatch_reassign(
        dispatch_id=dispatch.pk, agency_id=data.get("agency"), actor=acting_user(request)
    )
    return done(request, reverse("incident", args=[dispatch.incident_id]), {"dispatch": new.pk})
