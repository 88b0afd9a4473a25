"""Staff and roles of a Pemda: who works on its site and with which role.

Something a role needs besides the role belongs to the app that owns it (an OPD
responder's agency is `incidents`'). That app registers a `StaffAttachment` from
its `AppConfig.ready()`, so `staff_save` sets it in the same transaction while
`accounts`, below `incidents`, never imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import TENANT_ROLES, User
from audit.services import record, tracking
from core.errors import Conflict, Invalid, NotFound

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffAttachment:
    """A thing of another app a member of staff is attached to, by role."""

    field: str  # the form / JSON field the admin fills in ("agency")
    label: Any  # the column heading (a lazy translation)
    # What the admin may choose, as (id, label).
    options: Callable[[], list[tuple[int, str]]]
    # Every user's current choice: user id -> id.
    current: Callable[[], dict[int, int]]
    # What the audit trail shows for one user's choice (a code a person reads), or None.
    audited: Callable[[User], Any]
    # Called in staff_save's transaction after the user is saved, with the user's
    # (new) role and the value sent (None when absent): set, keep or clear the
    # attachment; raise a DomainError (with `field`) to refuse, rolling it all back.
    attach: Callable[[User, str, Any], None]


_attachments: dict[str, StaffAttachment] = {}


def staff_attachment_register(attachment: StaffAttachment) -> None:
    _attachments[attachment.field] = attachment


def staff_attachments() -> list[StaffAttachment]:
    return list(_attachments.values())


def _staff_image(user: User) -> dict[str, Any]:
    image: dict[str, Any] = {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "is_active": user.is_active,
        "password": user.password,
    }
    for attachment in _attachments.values():
        image[attachment.field] = attachment.audited(user)
    return image


def _staff_action(before: dict[str, Any], after: dict[str, Any]) -> str:
    return "staff.role_changed" if before.get("role") != after.get("role") else "staff.updated"


@transaction.atomic
def staff_save(
    *,
    actor: User,
    user_id: int | None,
    username: str,
    display_name: str,
    role: str,
    attached: dict[str, Any] | None = None,
    password: str = "",
    active: bool = True,
) -> User:
    """Create or change a member of this Pemda's staff: name, role, active, a
    (first or new) password, and what their role attaches them to (`attached`,
    by field: {"agency": id})."""
    if role not in TENANT_ROLES:
        raise Invalid(_("Choose a role of the call center."), field="role")
    if user_id is None:
        username = username.strip()
        if not username or User.objects.filter(username=username).exists():
            raise Invalid(_("Choose a new, unused username."), field="username")
        user = User(username=username)
        if not password:
            raise Invalid(_("Set a first password."), field="password")
    else:
        found = User.objects.select_for_update().filter(pk=user_id).first()
        if found is None:
            raise NotFound(_("No such user."))
        user = found
        if user.pk == actor.pk and (role != user.role or not active):
            raise Conflict(
                _("You cannot change your own role or deactivate yourself."), field="role"
            )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise Invalid(" ".join(exc.messages), field="password") from None
    # The trail gets what changed: role, name, active, the attachment; a new
    # password only as "changed" (audit masks the hash's fingerprint).
    with tracking(actor=actor, action=_staff_action, created_action="staff.created",
                  target=user, image=_staff_image):
        if password:
            user.set_password(password)
        user.display_name = display_name.strip()[:120]
        user.role = role
        user.is_active = active
        user.save()
        for attachment in _attachments.values():
            attachment.attach(user, role, (attached or {}).get(attachment.field))
    logger.info("staff.saved", extra={"user": user.pk, "role": role, "by": actor.pk})
    return user


@transaction.atomic
def staff_unlock(*, actor: User, user_id: int) -> int:
    """Lift a colleague's login lockout (too many wrong passwords) before its
    cool-off ends: the admin who knows it was them, not an attack. Returns how
    many recorded attempts were cleared."""
    from axes.utils import reset

    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No such user."))
    cleared = reset(username=user.username)
    if cleared:
        record(actor=actor, action="staff.unlocked", target=user)
    logger.info("staff.unlocked", extra={"user": user.pk, "by": actor.pk, "cleared": cleared})
    return int(cleared)
