"""The Pemda admin's pages: agencies, categories and routing, PBX keys, and the
center's settings (staff and roles are accounts.views)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import Invalid, NotFound
from core.http import done, post_data, wants_json
from incidents import forms, policies, selectors
from incidents.models import Agency
from incidents.services import pbx, setup
from incidents.views.common import acting_user, allowed


@allowed(policies.can_administer)
def manage_agencies(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        data = post_data(request)
        secret = data.get("webhook_secret")
        setup.agency_save(
            actor=acting_user(request),
            agency_id=forms.optional_id(data.get("agency_id")),
            code=str(data.get("code", "")),
            name=str(data.get("name", "")),
            kind=str(data.get("kind", "other")),
            email=str(data.get("email", "")),
            phone=str(data.get("phone", "")),
            radio_channel=str(data.get("radio_channel", "")),
            webhook_url=str(data.get("webhook_url", "")),
            webhook_secret=str(secret) if secret else None,
            active=forms.checked(data, "active", default=True),
        )
        return done(request, reverse("manage_agencies"))
    return render(
        request,
        "incidents/manage/agencies.html",
        {"agencies": selectors.all_agencies(), "kinds": Agency.Kind.choices},
    )


@allowed(policies.can_administer)
def manage_categories(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        data = post_data(request)
        if not str(data.get("category_id") or "").strip():
            # A missing field is the sender's mistake to correct (400), not "no such one".
            raise Invalid(_("This field is required."), field="category_id")
        category_id = forms.optional_id(data.get("category_id"))
        if category_id is None:
            raise NotFound(_("No such category."))
        if "routing" in data:
            setup.routing_rules_set(
                category_id=category_id,
                actor=acting_user(request),
                agency_codes=forms.agency_codes(data),
                # The picker's places left at "—" are not agencies.
                agency_ids=[a for a in forms.as_list(data.get("agency")) if str(a).strip()],
            )
        else:
            setup.category_update(
                category_id=category_id,
                actor=acting_user(request),
                name=str(data.get("name", "")),
                priority=data.get("priority"),
                ack_target_minutes=data.get("ack_target_minutes"),
                arrive_target_minutes=data.get("arrive_target_minutes"),
                active=forms.checked(data, "active"),
            )
        return done(request, reverse("manage_categories"))
    return render(
        request,
        "incidents/manage/categories.html",
        {
            "categories": selectors.category_rows(),
            "agencies": selectors.active_agencies(),
            "priorities": [(1, _("Critical")), (2, _("High")), (3, _("Medium")), (4, _("Low"))],
        },
    )


@allowed(policies.can_administer)
def manage_pbx(request: HttpRequest) -> HttpResponse:
    new_key = None
    if request.method == "POST":
        data = post_data(request)
        cred, new_key = pbx.pbx_credential_create(
            name=str(data.get("name", "")), actor=acting_user(request)
        )
        if wants_json(request):
            return JsonResponse({"ok": True, "id": cred.pk, "key": new_key}, status=201)
    return render(
        request,
        "incidents/manage/pbx.html",
        {
            "credentials": selectors.pbx_credentials(),
            "new_key": new_key,
            "endpoint": request.build_absolute_uri(reverse("pbx_events")),
            "aml_endpoint": request.build_absolute_uri(reverse("pbx_aml")),
        },
    )


@allowed(policies.can_administer)
@require_POST
def manage_pbx_revoke(request: HttpRequest, credential_id: int) -> HttpResponse:
    pbx.pbx_credential_revoke(credential_id=credential_id, actor=acting_user(request))
    return done(request, reverse("manage_pbx"))


@allowed(policies.can_administer)
def manage_settings(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        setup.settings_update(actor=acting_user(request), values=post_data(request))
        return done(request, reverse("manage_settings"))
    return render(request, "incidents/manage/settings.html", {"cfg": selectors.incident_settings()})
