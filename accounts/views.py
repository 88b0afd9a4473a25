from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.invitations import invitation_accept, invitation_find


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
