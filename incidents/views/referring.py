"""Cross-Pemda referral on the call center's side. referrals.policies decides who
may: the one rule for the views here and for GraphQL."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from core.http import done, post_data
from incidents import policies
from incidents.services import referring
from incidents.views.common import acting_user, allowed, is_test
from referrals import policies as referral_policies
from referrals.selectors import inbox_for
from tenants.db import current_schema


@allowed(referral_policies.can_send_referral)
@require_POST
def incident_refer(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    data = post_data(request)
    referring.incident_refer(
        incident_id=incident.pk,
        to_schema=str(data.get("to_schema", "")),
        actor=acting_user(request),
    )
    return done(request, reverse("incident", args=[incident.pk]))


@allowed(referral_policies.can_view_referrals)
@require_GET
def referral_inbox(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/referrals.html",
        {
            "inbox": inbox_for(current_schema()),
            "can_answer": referral_policies.can_answer_referral(request.user),
        },
    )


@allowed(referral_policies.can_answer_referral)
@require_POST
def referral_decline(request: HttpRequest, referral_id: int) -> HttpResponse:
    data = post_data(request)
    referring.referral_incident_decline(
        referral_id=referral_id, actor=acting_user(request), reason=str(data.get("reason", ""))
    )
    return done(request, reverse("referrals"))


@allowed(referral_policies.can_answer_referral)
@require_POST
def referral_accept(request: HttpRequest, referral_id: int) -> HttpResponse:
    incident = referring.referral_incident_accept(
        referral_id=referral_id, actor=acting_user(request), is_test=is_test(request)
    )
    return done(request, reverse("incident", args=[incident.pk]), {"incident": incident.pk})
