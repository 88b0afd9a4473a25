"""Calls on the call-taker's console (answer, classify) and the number blocks a
supervisor sees and lifts."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.http import done, post_data, wants_json
from incidents import policies, selectors
from incidents.services import calls
from incidents.views.common import acting_user, allowed


@allowed(policies.can_take_calls)
@require_POST
def call_answer(request: HttpRequest, call_id: int) -> HttpResponse:
    call = policies.access_call(request.user, call_id)
    calls.call_answer(call_id=call.pk, operator=acting_user(request))
    return done(request, f"{reverse('console')}?call={call.pk}", {"call": call.pk})


@allowed(policies.can_take_calls)
@require_POST
def call_classify(request: HttpRequest, call_id: int) -> HttpResponse:
    call = policies.access_call(request.user, call_id)
    data = post_data(request)
    _call, block = calls.call_classify(
        call_id=call.pk, call_type=str(data.get("call_type", "")), actor=acting_user(request)
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


@allowed(policies.can_supervise)
@require_GET
def blocks(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "incidents/blocks.html",
        {
            "active": selectors.active_blocks(),
            "recent": selectors.past_blocks(),
            "now": timezone.now(),
        },
    )


@allowed(policies.can_supervise)
@require_POST
def block_lift(request: HttpRequest, block_id: int) -> HttpResponse:
    calls.number_block_lift(block_id=block_id, actor=acting_user(request))
    return done(request, reverse("blocks"))
