"""One-time invitations for a new Pemda's first admin account.

The token is random, sent by email as a link to the Pemda's own host, and only
its SHA-256 is stored: single use, expiring. Accepting it creates the admin user
in that Pemda's schema (the schema the accepting request runs in)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import AdminInvitation, Role, User
from audit.services import Target, record, record_public
from core.errors import NotFound
from tenants.db import current_schema
from tenants.models import Region
from tenants.services import tenant_domain

logger = logging.getLogger(__name__)


def _ttl() -> dt.timedelta:
    return dt.timedelta(hours=int(str(settings.ONBOARDING.get("INVITATION_TTL_HOURS", 72))))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(region: Region, token: str) -> str:
    scheme = settings.SIAGA112["PUBLIC_SCHEME"]
    port = settings.SIAGA112["PUBLIC_PORT"]
    host = tenant_domain(region.slug) + (f":{port}" if port else "")
    return f"{scheme}://{host}/accounts/invite/{token}/"


@dataclass(frozen=True)
class CreatedInvitation:
    invitation: AdminInvitation
    url: str


@transaction.atomic
def invitation_create(*, region: Region, email: str, actor: User | None) -> CreatedInvitation:
    """Issue a link; earlier unused links for the same Pemda stop working."""
    now = timezone.now()
    AdminInvitation.objects.filter(region=region, used_at__isnull=True).update(expires_at=now)
    token = secrets.token_urlsafe(32)
    invitation = AdminInvitation.objects.create(
        region=region,
        email=email,
        token_hash=token_hash(token),
        expires_at=now + _ttl(),
        created_by=actor,
    )
    url = invitation_url(region, token)
    record(
        actor=actor,
        action="invitation.created",
        target=Target("admininvitation", str(invitation.pk), region.name),
        after={"email": email, "expires_at": invitation.expires_at},
    )
    if email:
        subject = _("Siaga112: create the admin account for %(name)s") % {"name": region.name}
        body = _(
            "The 112 call center of %(name)s is being installed on Siaga112.\n\n"
            "Open this link to choose the first Pemda-admin username and password "
            "(valid for %(hours)s hours, usable once):\n\n%(url)s\n"
        ) % {"name": region.name, "hours": int(_ttl().total_seconds() // 3600), "url": url}
        transaction.on_commit(lambda: send_mail(subject, body, None, [email], fail_silently=False))
    logger.info("invitation.created", extra={"region": region.code})
    return CreatedInvitation(invitation, url)


class InvitationInvalid(NotFound):
    """One answer (404) for an unknown, used, expired or another Pemda's link."""

    code = "invitation_invalid"
    default_message = gettext_noop("This invitation link is invalid, already used or expired.")


def invitation_find(*, token: str, region: Region | None) -> AdminInvitation:
    """The open invitation for this token on this Pemda's host, else InvitationInvalid
    (one error for unknown, used, expired or another Pemda's link)."""
    invitation = AdminInvitation.objects.filter(token_hash=token_hash(token)).first()
    if (
        invitation is None
        or region is None
        or invitation.region_id != region.code
        or invitation.used_at is not None
        or invitation.expires_at <= timezone.now()
    ):
        raise InvitationInvalid()
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, region: Region | None, username: str, password: str) -> User:
    """Create the Pemda-admin user in the current (tenant) schema and burn the link."""
    invitation = invitation_find(token=token, region=region)
    invitation = AdminInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.used_at is not None:
        raise InvitationInvalid()
    if current_schema() == "public":
        raise InvitationInvalid()
    errors: dict[str, list[str]] = {}
    username = username.strip()
    if not username:
        errors["username"] = [_("Choose a username.")]
    elif User.objects.filter(username=username).exists():
        errors["username"] = [_("This username is already taken on this Pemda.")]
    candidate = User(username=username, email=invitation.email, role=Role.PEMDA_ADMIN)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(
        username=username,
        password=password,
        email=invitation.email,
        role=Role.PEMDA_ADMIN,
        display_name=_("Pemda admin"),
    )
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    # Both trails: the Pemda admin sees who created the first admin account,
    # the national officer sees the invitation used.
    record(
        actor=user,
        action="invitation.accepted",
        target=user,
        after={"username": user.username, "role": user.role},
    )
    record_public(
        actor=user,
        action="invitation.accepted",
        target=Target("admininvitation", str(invitation.pk), invitation.region.name),
        before={"used_at": None},
        after={"used_at": invitation.used_at, "username": user.username},
    )
    logger.info("invitation.accepted", extra={"region": invitation.region_id})
    return user
