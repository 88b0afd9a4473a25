"""The PBX-facing HTTP endpoints of a Pemda (authenticated by a per-PBX API key).

POST /api/pbx/events/  JSON {event: ringing|answered|ended, call_id, caller, trunk, at, operator?}
POST /api/pbx/aml/     AML SMS text ({"sms": "A\"ML=1;…", "from": "+62…"} as JSON or form fields)
                       or the HTTPS form (form fields or JSON, as Android ELS sends).

Caller numbers travel in the body only: a number in the query string (?from=, ?caller=,
?device_number=) is refused with a 400, since URLs land in access logs, proxies and
error records.

An AML position for a call that has not rung yet is stored and attached when the
call arrives (answered 202 {"attached": false}). Bad input: 400 {"error", "code", "field"},
nothing saved. A blocked number's ringing event: 200 {"blocked": true, "until": …}.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from core.rules import PLAUSIBLE_YEARS, plausible_time
from incidents import aml
from incidents.errors import OperationError
from incidents.services import calls, pbx

logger = logging.getLogger(__name__)


def _error(message: str, field: str = "", status: int = 400) -> JsonResponse:
    body = OperationError(message, field=field, status=status).as_json()
    return JsonResponse(body, status=status)


def _authenticate(request: HttpRequest) -> JsonResponse | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _error("missing 'Authorization: Bearer <PBX key>' header", "Authorization", 401)
    if pbx.pbx_authenticate(header.removeprefix("Bearer ").strip()) is None:
        return _error("unknown or revoked PBX key", "Authorization", 401)
    return None


# Query parameters that would carry a caller's number in the URL.
_NUMBER_PARAMS = ("from", "caller", "device_number")


def _refuse_numbers_in_url(request: HttpRequest) -> None:
    for name in _NUMBER_PARAMS:
        if name in request.GET:
            raise OperationError(
                f"send '{name}' in the POST body (JSON or form fields), not in the URL: "
                "URLs are written to access logs",
                field=name,
            )


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        raise OperationError("the body is not valid JSON", field="body") from None
    if not isinstance(body, dict):
        raise OperationError("the body must be a JSON object", field="body")
    return body


def _time(value: object) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value)
    try:
        # None for a malformed string, ValueError for a well-formed impossible one
        # ("2026-02-30T…", an offset of 25 hours).
        parsed = parse_datetime(text)
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        raise OperationError(f"'at' is not an ISO 8601 time: {text[:40]!r}", field="at")
    if not plausible_time(parsed):
        low, high = PLAUSIBLE_YEARS
        raise OperationError(f"'at' is outside the years {low}-{high}: {text[:40]!r}", field="at")
    if timezone.is_naive(parsed):
        raise OperationError("'at' needs a time zone (e.g. 2025-01-01T10:00:00+07:00)", field="at")
    return parsed


def _in_trial(request: HttpRequest) -> bool:
    return bool(getattr(getattr(request, "tenant", None), "in_trial", False))


@csrf_exempt
@require_POST
def pbx_events(request: HttpRequest) -> JsonResponse:
    # Refusals (OperationError, AmlError) are answered by core.http as
    # {"error", "code", "field"} with their status, like every API.
    denied = _authenticate(request)
    if denied is not None:
        return denied
    _refuse_numbers_in_url(request)
    body = _json_body(request)
    for name in ("event", "call_id", "caller", "trunk", "operator"):
        if body.get(name) is not None and not isinstance(body[name], str | int):
            raise OperationError(f"{name} must be a string", field=name)
    result = calls.pbx_event_record(
        event=str(body.get("event", "")),
        external_id=str(body.get("call_id", "")),
        caller_raw=str(body.get("caller") or ""),
        trunk=str(body.get("trunk") or ""),
        at=_time(body.get("at")),
        operator_username=str(body.get("operator") or ""),
        is_test=_in_trial(request),
    )
    call = result.call
    answer: dict[str, Any] = {
        "ok": True,
        "call": call.external_id,
        "state": call.state,
        "duplicate": result.duplicate,
    }
    if result.blocked_until is not None:
        answer.update(blocked=True, until=result.blocked_until.isoformat())
    elif call.blocked:
        answer.update(blocked=True)
    return JsonResponse(answer)


@csrf_exempt
@require_POST
def pbx_aml(request: HttpRequest) -> JsonResponse:
    denied = _authenticate(request)
    if denied is not None:
        return denied
    _refuse_numbers_in_url(request)
    if request.content_type == "text/plain":
        # A bare SMS body has no room for the originator, and the URL must not carry it.
        raise OperationError(
            'a text/plain AML SMS carries no caller number: send SMS and number in the body '
            'as JSON {"sms": "A\\"ML=…", "from": "+62…"} or as the form fields sms and from',
            field="from",
        )
    if request.content_type == "application/json":
        data = _json_body(request)
    else:
        try:
            data = {k: v for k, v in request.POST.items()}
        except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent):
            # Django's own answer would be a bare 400 that names nothing.
            raise OperationError("the body is not a readable form", field="body") from None
    if "sms" in data:
        location = aml.parse_aml_sms(
            str(data["sms"]), caller_number=str(data.get("from") or "") or None
        )
        channel = "sms"
    else:
        location = aml.parse_aml_https(data)
        channel = "https"
    report = calls.aml_receive(location=location, channel=channel)
    if report.call is not None:
        return JsonResponse({"ok": True, "attached": True, "call": report.call.external_id})
    return JsonResponse(
        {
            "ok": True,
            "attached": False,
            "stored": report.pk,
            "message": "no matching call yet; the position is attached when the call rings",
        },
        status=202,
    )
