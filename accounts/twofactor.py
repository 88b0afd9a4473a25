"""Two-factor login: TOTP (an authenticator app) with one-time backup codes, on
django-otp's devices (`otp_totp`, `otp_static`), in the schema of the user's host.

Who needs it is `accounts.policies.SECOND_FACTOR_ROLES`; the middleware in
`accounts.middleware` keeps such a session on the verify/enrol pages until it
passed. Every wrong code counts against the device's throttle (django-otp:
after n failures the next try waits 2**(n-1) s), so a failed check commits its
count: the checks here never raise inside the transaction that verifies.

Enrolment, new backup codes and a reset write an audit row in the same
transaction. Secrets and codes never reach the trail or the logs.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.models import Device
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.policies import can_reset_second_factor
from audit.services import record
from core.errors import Conflict, Forbidden, Invalid, NotFound

logger = logging.getLogger(__name__)

BACKUP_CODE_COUNT = 10
TOTP_NAME = "authenticator"
BACKUP_NAME = "backup codes"
_SEPARATORS = re.compile(r"[\s-]+")


@dataclass(frozen=True)
class Verification:
    """The outcome of one code: the device that accepted it, or why not."""

    device: Device | None = None
    locked_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.device is not None


def normalize_code(token: str) -> str:
    """People type codes with spaces or dashes ("123 456", "abcd-efgh")."""
    return _SEPARATORS.sub("", str(token or "")).lower()[:32]


def secret_base32(device: TOTPDevice) -> str:
    """The secret as an authenticator app takes it when typed by hand."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def _confirmed_totp(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _check(devices: list[Any], token: str) -> Verification:
    """Try `token` on each device that is not throttled; the first to accept wins."""
    locked: list[dt.datetime] = []
    for device in devices:
        allowed, info = device.verify_is_allowed()
        if not allowed:
            until = (info or {}).get("locked_until")
            locked.append(until or dt.datetime.max.replace(tzinfo=dt.UTC))
            continue
        if device.verify_token(token):
            return Verification(device=device)
    if locked and len(locked) == len(devices):
        return Verification(locked_until=min(locked))
    return Verification()


def second_factor_verify(*, user: User, token: str) -> Verification:
    """Check a code typed after the password: six digits are an authenticator code,
    anything else a backup code (consumed when it matches). Returns the device, or
    the time until which the devices refuse to check (too many wrong codes)."""
    code = normalize_code(token)
    if not code:
        return Verification()
    model: type[Device] = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        # Locked rows: two tries at once cannot both use the same backup code.
        devices = list(
            model.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
        )
        result = _check(devices, code)
    logger.info(
        "twofactor.verify",
        extra={"user": user.pk, "ok": result.ok, "throttled": result.locked_until is not None,
               "kind": model.__name__},
    )
    return result


def totp_enrolment_start(*, user: User) -> TOTPDevice:
    """The device being enrolled: unconfirmed until a first code proves the app has
    the secret. A user who already has a confirmed device cannot add one here (a
    stolen password must not be enough to bind an attacker's phone): reset first."""
    if _confirmed_totp(user) is not None:
        raise Conflict(_("Two-factor login is already set up for this account."))
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
    return device


def _backup_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def totp_enrolment_confirm(
    *, user: User, token: str
) -> tuple[TOTPDevice | None, list[str], dt.datetime | None]:
    """The first code from the app confirms the device and issues the backup codes
    (shown once). Returns (device, codes, None), or (None, [], locked_until) for a
    wrong code; the wrong code's throttle count is committed either way."""
    code = normalize_code(token)
    with transaction.atomic():
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise Conflict(_("Two-factor login is already set up for this account."))
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False).order_by("pk").first()
        )
        if device is None:
            raise NotFound(_("Start the set-up again: open the set-up page."))
        result = _check([device], code) if code else Verification()
        if not result.ok:
            return None, [], result.locked_until
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _backup_codes_replace(user)
        record(actor=user, action="twofactor.enrolled", target=user)
    logger.info("twofactor.enrolled", extra={"user": user.pk})
    return device, codes, None


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    """New backup codes for a user who has the app; the old ones stop working."""
    if _confirmed_totp(user) is None:
        raise Conflict(_("Set up two-factor login first."))
    codes = _backup_codes_replace(user)
    record(actor=user, action="twofactor.backup_codes_regenerated", target=user)
    logger.info("twofactor.backup_codes_regenerated", extra={"user": user.pk})
    return codes


@transaction.atomic
def second_factor_reset(*, actor: User, user_id: int) -> User:
    """Remove a user's devices (a lost phone): their next login enrols again.
    Sessions they already verified lose their device and stop at the set-up page."""
    if not can_reset_second_factor(actor):
        raise Forbidden(_("Your role may not do this."))
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.")
    if user.pk == actor.pk:
        raise Conflict(_("Another admin must reset your own two-factor login."), field="user")
    removed = (
        TOTPDevice.objects.filter(user=user).delete()[0]
        + StaticDevice.objects.filter(user=user).delete()[0]
    )
    if not removed:
        raise Invalid(_("This user has no two-factor login to reset."), field="user")
    record(actor=actor, action="twofactor.reset", target=user)
    logger.info("twofactor.reset", extra={"user": user.pk, "by": actor.pk})
    return user


def totp_device_ensure(*, user: User, key: str | None = None) -> TOTPDevice:
    """A confirmed authenticator device for `user` (the demo's pre-enrolled
    accounts): the existing one, else a new one with `key` (hex) or a random key."""
    device = _confirmed_totp(user)
    if device is not None:
        return device
    fields: dict[str, Any] = {"user": user, "name": TOTP_NAME, "confirmed": True}
    if key:
        fields["key"] = key
    return TOTPDevice.objects.create(**fields)


def totp_current_code(device: TOTPDevice) -> str:
    """The code the device's app shows right now (the demo's `siaga112 totp`)."""
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits,
                drift=device.drift)
    return f"{code:0{device.digits}d}"
