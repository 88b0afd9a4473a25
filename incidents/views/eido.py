"""NENA EIDO over plain HTTP on a Pemda's host, for integrators and neighbouring
centers: GET an incident as an EIDO document, POST one to create or update an
incident. Authorised like the console (session and role); the answers are JSON,
refusals included (core.http maps /api/ paths to JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError, Invalid
from incidents import policies
from incidents.eido.export import incident_eido
from incidents.services.eido_exchange import incident_import_eido
from incidents.views.common import acting_user
from tenants.db import current_schema

ViewFn = Callable[..., HttpResponse]


def _api_user(check: Callable[[Any], bool]) -> Callable[[ViewFn], ViewFn]:
    """401 for no session, 403 for a role that may not; JSON either way (an API
    client is not sent to the login page)."""

    def decorate(view: ViewFn) -> ViewFn:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return JsonResponse({"error": "Sign in first.", "code": "unauthorized"},
                                    status=401)
            if not check(request.user):
                return JsonResponse({"error": "Your role may not do this.",
                                     "code": "forbidden"}, status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


@require_GET
@_api_user(policies.can_view_incidents)
def incident_eido_get(request: HttpRequest, incident_id: int) -> HttpResponse:
    incident = policies.access_incident(request.user, incident_id)
    document = incident_eido(user=request.user, incident=incident, schema=current_schema())
    return JsonResponse(document, json_dumps_params={"ensure_ascii": False})


@require_POST
@_api_user(policies.can_create_incident)
def incident_eido_post(request: HttpRequest) -> HttpResponse:
    if len(request.body) > int(getattr(settings, "EIDO_MAX_BYTES", 1_000_000)):
        return JsonResponse({"error": "The EIDO document is too large.", "code": "too_large",
                             "field": "$"}, status=413)
    try:
        document = json.loads(request.body or b"")
    except ValueError:
        raise Invalid("The body is not valid JSON.", field="$") from None
    try:
        result = incident_import_eido(document=document, actor=acting_user(request),
                                      schema=current_schema())
    except DomainError as exc:
        return JsonResponse(exc.as_json(), status=exc.error_status())
    return JsonResponse(
        {"ok": True, "incident": result.incident.pk, "reference": result.incident.reference,
         "created": result.created, "notes_added": result.notes_added},
        status=201 if result.created else 200,
    )
