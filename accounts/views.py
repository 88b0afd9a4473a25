"""The invitation link of a Pemda's first admin, and the admin's staff page.

The staff page lives in the call center's layout (`incidents/layout.html`, the
tenant site's chrome): a template name, not an import, so accounts stays below
incidents.
"""

from __future__ import annotations

import math
from typing import Any, cast
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import policies, selectors, services, twofactor
from accounts.invitations import invitation_accept, invitation_find
from accounts.models import User
from core.errors import Invalid
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
        if data.get("unlock") and optional_id(data.get("user_id")) is not None:
            services.staff_unlock(actor=cast(User, request.user),
                                  user_id=cast(int, optional_id(data.get("user_id"))))
            return done(request, reverse("manage_users"))
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
        {"users": rows, "roles": selectors.tenant_role_choices(), "columns": columns,
         "locked": selectors.locked_out_usernames()},
    )


# --- two-factor login (accounts.twofactor) -------------------------------------------------

_CODES_SESSION_KEY = "twofactor_new_backup_codes"


def _next_url(request: HttpRequest) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse(settings.LOGIN_REDIRECT_URL)


def _qr_svg(data: str) -> str:
    """The otpauth:// URL as an inline SVG: drawn here, no script, no third party."""
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return cast(str, image.to_string(encoding="unicode"))


def _throttled_message(locked_until: Any) -> str:
    seconds = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
    return _("Too many wrong codes. Wait %(seconds)s seconds and try again.") % {
        "seconds": seconds}


def _verified(request: HttpRequest, device: Any) -> None:
    # A new session key when the session gains the second factor, as at login:
    # a key planted before (fixation) does not become a verified session.
    request.session.cycle_key()
    django_otp.login(request, device)


@never_cache
@login_required
def twofactor_verify(request: HttpRequest) -> HttpResponse:
    """The step after the password: a code from the app, or a backup code."""
    user = cast(User, request.user)
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(_next_url(request))
    if not django_otp.user_has_device(user):
        return redirect(reverse("twofactor_enrol") + "?" + urlencode({"next": _next_url(request)}))
    error = ""
    status = 200
    if request.method == "POST":
        result = twofactor.second_factor_verify(user=user, token=request.POST.get("code", ""))
        if result.ok:
            _verified(request, result.device)
            if isinstance(result.device, StaticDevice):
                left = selectors.second_factor_status(user)["backup_codes_left"]
                messages.warning(request, _(
                    "You used a backup code; %(left)s left. Make new ones on your account page."
                ) % {"left": left})
            return redirect(_next_url(request))
        error = (_throttled_message(result.locked_until) if result.locked_until
                 else _("That code is wrong or already used."))
        status = 429 if result.locked_until else 400
    return render(request, "accounts/twofactor/verify.html",
                  {"error": error, "next": _next_url(request)}, status=status)


@never_cache
@login_required
def twofactor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: QR code and secret, then a first code."""
    user = cast(User, request.user)
    if not policies.needs_second_factor(user):
        return redirect(_next_url(request))
    if django_otp.user_has_device(user):
        # Adding a device needs the old one, or an admin's reset: not a password alone.
        return redirect(reverse("twofactor_verify") + "?" + urlencode({"next": _next_url(request)}))
    device = twofactor.totp_enrolment_start(user=user)
    secret = twofactor.secret_base32(device)
    error = ""
    status = 200
    if request.method == "POST":
        confirmed, codes, locked_until = twofactor.totp_enrolment_confirm(
            user=user, token=request.POST.get("code", ""))
        if confirmed is not None:
            _verified(request, confirmed)
            request.session[_CODES_SESSION_KEY] = codes
            return redirect(reverse("twofactor_backup_codes") + "?"
                            + urlencode({"next": _next_url(request)}))
        error = (_throttled_message(locked_until) if locked_until
                 else _("That code is wrong. Check the time on your phone and try again."))
        status = 429 if locked_until else 400
    return render(
        request, "accounts/twofactor/enrol.html",
        {"qr_svg": _qr_svg(device.config_url), "secret": secret,
         "secret_grouped": " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)),
         "error": error, "next": _next_url(request)},
        status=status,
    )


@never_cache
@login_required
def twofactor_backup_codes(request: HttpRequest) -> HttpResponse:
    """New backup codes, shown once: they leave the session as they are shown."""
    codes = request.session.pop(_CODES_SESSION_KEY, None)
    if not codes:
        return redirect("twofactor_account")
    return render(request, "accounts/twofactor/backup_codes.html",
                  {"codes": codes, "next": _next_url(request)})


@never_cache
@login_required
def twofactor_account(request: HttpRequest) -> HttpResponse:
    """Your own two-factor login: status, and new backup codes (POST)."""
    user = cast(User, request.user)
    if request.method == "POST":
        request.session[_CODES_SESSION_KEY] = twofactor.backup_codes_regenerate(user=user)
        return redirect("twofactor_backup_codes")
    return render(request, "accounts/twofactor/account.html",
                  {"status": selectors.second_factor_status(user),
                   "required": policies.needs_second_factor(user),
                   "can_reset": policies.can_reset_second_factor(user)})


@never_cache
@allowed(policies.can_reset_second_factor, denied_template="accounts/twofactor/denied.html")
def twofactor_users(request: HttpRequest) -> HttpResponse:
    """The admin's list of two-factor accounts on this host, with reset (POST)."""
    if request.method == "POST":
        user_id = optional_id(request.POST.get("user_id"))
        if user_id is None:  # the sender's mistake to correct, not "no such user"
            raise Invalid(_("Choose whose two-factor login to reset."), field="user_id")
        user = twofactor.second_factor_reset(actor=cast(User, request.user), user_id=user_id)
        messages.success(request, _("Two-factor login of %(user)s was reset: they set it up "
                                    "again at their next login.") % {"user": user.username})
        return done(request, reverse("twofactor_users"))
    return render(request, "accounts/twofactor/users.html",
                  {"rows": selectors.second_factor_users()})
