"""The audit pages: a Pemda admin reads their Pemda's trail on its own host,
the ministry reads the public schema's trail on the national host. Read only:
these views never write."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from accounts.models import Role
from audit import actions, selectors
from audit.models import AuditEntry, RowHistory
from incidents import policies as incident_policies
from incidents.selectors import display_caller
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


# The tables of a Pemda schema whose row history its admin reads, by label.
TENANT_HISTORY_TABLES: dict[str, Promise] = {
    "incidents_incident": _lazy("Incidents"),
    "incidents_dispatch": _lazy("Dispatches"),
    "incidents_timelineentry": _lazy("Timeline entries"),
    "accounts_user": _lazy("Users and roles"),
    "accounts_user_groups": _lazy("User groups"),
    "incidents_agencymember": _lazy("Agency members"),
    "incidents_pbxcredential": _lazy("PBX keys"),
    "incidents_incidentsettings": _lazy("Settings"),
}
_OPS: dict[str, Promise] = {
    "INSERT": _lazy("created"),
    "UPDATE": _lazy("changed"),
    "DELETE": _lazy("deleted"),
}
# Columns holding a caller's number: shown masked to whoever may not see it.
_CALLER_COLUMNS = frozenset({"caller", "number"})


def _history_row(row: RowHistory, *, full_caller: bool) -> dict[str, Any]:
    def shown(key: str, value: Any) -> str:
        if key in _CALLER_COLUMNS and isinstance(value, str):
            value = display_caller(value, full=full_caller)
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)[:200]
        return _shown(key, value)

    if row.op == "UPDATE":
        changes = row.changes()
    else:  # a created or deleted row: its whole image
        image = row.after if row.op == "INSERT" else row.before
        changes = [(k, None, v) if row.op == "INSERT" else (k, v, None)
                   for k, v in (image or {}).items()]
    return {
        "row": row,
        "table": str(TENANT_HISTORY_TABLES.get(row.table_name, row.table_name)),
        "op": str(_OPS.get(row.op, row.op)),
        "changes": [(k, shown(k, old), shown(k, new)) for k, old, new in changes],
    }


@require_GET
@login_required
def tenant_history(request: HttpRequest) -> HttpResponse:
    """What PostgreSQL itself recorded of this Pemda's incidents, dispatches,
    timelines, users and keys (audit.history), for its Pemda admin."""
    if not policies.can_read_tenant_trail(request.user):
        return render(request, "incidents/denied.html", status=403)
    table = request.GET.get("table", "")
    if table not in TENANT_HISTORY_TABLES:
        table = ""
    row_pk = request.GET.get("row", "").strip()[:64] if table else ""
    page = Paginator(selectors.history(table=table, row_pk=row_pk), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    full = incident_policies.sees_caller_number(request.user)
    query = urlencode({k: v for k, v in (("table", table), ("row", row_pk)) if v})
    return render(
        request,
        "reporting/audit/history.html",
        {
            "page": page,
            "rows": [_history_row(r, full_caller=full) for r in page.object_list],
            "table": table,
            "row_pk": row_pk,
            "table_choices": [(k, str(v)) for k, v in TENANT_HISTORY_TABLES.items()],
            "filter_query": query,
        },
    )
