"""The invitation link of a Pemda's first admin, and the admin's staff page.

The staff page lives in the call center's layout (`incidents/layout.html`, the
tenant site's chrome): a template name, not an import, so accounts stays below
incidents.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts import policies, selectors, services
from accounts.invitations import invitation_accept, invitation_find
from accounts.models import User
from core.forms import checked, optional_id
from core.http import allowed, done, post_data


@never_cache
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    """The one-time link for a new Pemda's first admin (on the Pemda's own host)."""
    tenant = getattr(request, "tenant", None)
    region = getattr(tenant, "region", None)
    # An unusable link raises InvitationInvalid (a NotFound): core.http answers 404.
    invitation = invitation_find(token=token, region=region)
    errors: dict[str, list[str]] = {}
    username = "admin"
    if request.method == "POST":
        username = request.POST.get("username", "")
        password = request.POST.get("password1", "")
        if password != request.POST.get("password2", ""):
            errors["password2"] = [_("The two passwords differ.")]
        else:
            try:
                invitation_accept(token=token, region=region, username=username, password=password)
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                messages.success(request, _("Your admin account is ready. Log in with it now."))
                return redirect("login")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "errors": errors, "username": username},
        status=400 if errors else 200,
    )


@allowed(policies.can_manage_staff, denied_template="incidents/denied.html")
def manage_users(request: HttpRequest) -> HttpResponse:
    attachments = services.staff_attachments()
    if request.method == "POST":
        data = post_data(request)
        services.staff_save(
            actor=cast(User, request.user),
            user_id=optional_id(data.get("user_id")),
            username=str(data.get("username", "")),
            display_name=str(data.get("display_name", "")),
            role=str(data.get("role", "")),
            attached={a.field: data.get(a.field) or None for a in attachments},
            password=str(data.get("password", "")),
            active=checked(data, "active", default=True),
        )
        return done(request, reverse("manage_users"))
    current = [a.current() for a in attachments]
    rows: list[dict[str, Any]] = [
        {"user": user, "attached": [chosen.get(user.pk) for chosen in current]}
        for user in selectors.staff_all()
    ]
    columns = [{"field": a.field, "label": a.label, "options": a.options()} for a in attachments]
    for row in rows:
        row["cells"] = list(zip(columns, row.pop("attached"), strict=True))
    return render(
        request,
        "accounts/manage/users.html",
        {"users": rows, "roles": selectors.tenant_role_choices(), "columns": columns},
    )
