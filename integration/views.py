"""The token pages: a Pemda admin's /manage/tokens/ on the Pemda's host (tenant
tokens), the national officer's /integrasi/token/ on the national host (province
and national tokens). A new token is shown once, on the answer to its POST."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from core.errors import Invalid
from core.http import allowed, post_data
from integration import policies
from integration.models import ApiToken
from integration.services import api_token_create, api_token_revoke
from tenants.db import current_schema
from tenants.models import Region


def _days(data: dict[str, Any]) -> int:
    try:
        return int(str(data.get("days") or "365"))
    except ValueError:
        raise Invalid("Valid for a number of days.", field="days") from None


def _page(request: HttpRequest, template: str, tokens: Any, *, scope: str | None) -> HttpResponse:
    data = post_data(request) if request.method == "POST" else {}
    created = None
    if request.method == "POST" and data.get("revoke"):
        try:
            token_id = int(str(data["revoke"]))
        except ValueError:
            raise Invalid("No such token.", field="revoke") from None
        api_token_revoke(token_id=token_id, actor=request.user, visible=tokens)
    elif request.method == "POST":
        chosen = scope or str(data.get("scope", ""))
        if chosen == ApiToken.Scope.TENANT and scope is None:
            raise Invalid("Tenant tokens are made on the Pemda's own site.", field="scope")
        province = str(data.get("province", "")) if chosen == ApiToken.Scope.PROVINCE else ""
        if province and not Region.objects.filter(code=province, kind="province").exists():
            raise Invalid(f"Unknown province {province!r}.", field="province")
        created = api_token_create(
            actor=request.user, name=str(data.get("name", "")), scope=chosen,
            access=str(data.get("access", "read")), days=_days(data),
            schema_name=current_schema() if chosen == ApiToken.Scope.TENANT else "",
            province_code=province,
        )
    return render(request, template, {
        "tokens": list(tokens.order_by("-created_at")),
        "created": created,
        "provinces": Region.objects.filter(kind="province").order_by("code"),
        "accesses": ApiToken.Access.choices,
    })


@never_cache
@allowed(policies.can_manage_tenant_tokens, denied_template="incidents/denied.html")
def tenant_tokens(request: HttpRequest) -> HttpResponse:
    return _page(request, "integration/tenant_tokens.html",
                 policies.tenant_tokens(current_schema()), scope=ApiToken.Scope.TENANT)


@never_cache
@allowed(policies.can_manage_national_tokens, denied_template="integration/denied.html")
def national_tokens(request: HttpRequest) -> HttpResponse:
    return _page(request, "integration/national_tokens.html", policies.national_tokens(),
                 scope=None)
