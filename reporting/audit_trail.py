"""The audit pages: a Pemda admin reads their Pemda's trail on its own host,
the ministry reads the public schema's trail on the national host. Read only:
these views never write."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Role
from audit import actions, selectors
from audit.models import AuditEntry
from onboarding.models import Stage
from reporting import policies
from tenants.models import Tenant

PAGE_SIZE = 50

# Stored values that are codes themselves get their label on the page too.
_VALUE_LABELS: dict[str, dict[str, Any]] = {
    "stage": dict(Stage.choices),
    "status": dict(Tenant.Status.choices),
    "role": dict(Role.choices),
}


def _shown(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    labels = _VALUE_LABELS.get(key)
    if labels is not None and isinstance(value, str) and value in labels:
        return str(labels[value])
    if isinstance(value, list):
        return ", ".join(_shown(key, v) for v in value)
    return str(value)


def _row(entry: AuditEntry) -> dict[str, Any]:
    before, after = entry.before or {}, entry.after or {}
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return {
        "entry": entry,
        "role": str(_VALUE_LABELS["role"].get(entry.actor_role, entry.actor_role)),
        "changes": [
            (
                str(actions.field_label(k)),
                _shown(k, before.get(k)) if k in before else "",
                _shown(k, after.get(k)) if k in after else "",
            )
            for k in keys
        ],
    }


def _trail(
    request: HttpRequest,
    *,
    template: str,
    denied_template: str,
    may_read: Callable[[Any], bool],
    codes: dict[str, Promise],
) -> HttpResponse:
    if not may_read(request.user):
        return render(request, denied_template, status=403)
    action = request.GET.get("action", "")
    if action not in codes:
        action = ""
    username = request.GET.get("user", "").strip()[:150]
    page = Paginator(selectors.entries(action=action, username=username), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = urlencode({k: v for k, v in (("action", action), ("user", username)) if v})
    return render(
        request,
        template,
        {
            "page": page,
            "rows": [_row(e) for e in page.object_list],
            "action": action,
            "username": username,
            "action_choices": actions.choices(codes),
            "usernames": selectors.actor_usernames(),
            "filter_query": query,
        },
    )


@require_GET
@login_required
def tenant_trail(request: HttpRequest) -> HttpResponse:
    return _trail(
        request,
        template="reporting/audit/tenant.html",
        denied_template="incidents/denied.html",
        may_read=policies.can_read_tenant_trail,
        codes=actions.TENANT_ACTIONS,
    )


@require_GET
@login_required
def national_trail(request: HttpRequest) -> HttpResponse:
    return _trail(
        request,
        template="reporting/audit/national.html",
        denied_template="reporting/audit/national_denied.html",
        may_read=policies.can_read_national_trail,
        codes=actions.PUBLIC_ACTIONS,
    )
