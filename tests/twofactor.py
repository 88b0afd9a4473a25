"""For browser tests that log in through the real form: answer the second factor
as the user's authenticator app would (the code computed from the device's key
with django_otp.oath.totp), on the verify page or, for a user without a device,
through the enrolment page and its backup codes."""

from __future__ import annotations

from urllib.parse import urlsplit

from django_tenants.utils import schema_context


def schema_of(url: str) -> str:
    from tenants.models import Domain

    host = urlsplit(url).hostname or ""
    if host in {"localhost", "127.0.0.1"}:
        return "public"
    return str(Domain.objects.select_related("tenant").get(domain=host).tenant.schema_name)


def totp_code(schema: str, username: str, *, confirmed: bool = True) -> str:
    """The app's current code. A test may log the same user in twice within one
    30 s step; django-otp refuses a step already used (replay), so the device
    forgets its last step and throttle first, as a second phone would not."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from accounts.twofactor import totp_current_code

    with schema_context(schema):
        user = User.objects.get(username=username)
        device = TOTPDevice.objects.filter(user=user, confirmed=confirmed).order_by("-pk").first()
        assert device is not None, f"{username} has no {'confirmed' if confirmed else 'new'} device"
        TOTPDevice.objects.filter(pk=device.pk).update(
            last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None)
        return totp_current_code(device)


def pass_second_factor(page, username: str) -> None:
    """Call right after submitting the password form."""
    page.wait_for_load_state("networkidle")
    if "/accounts/2fa/verify/" in page.url:
        page.fill("#id_code", totp_code(schema_of(page.url), username))
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
    elif "/accounts/2fa/enrol/" in page.url:
        page.fill("#id_code", totp_code(schema_of(page.url), username, confirmed=False))
        page.click("button[type=submit]")
        page.wait_for_selector("#backup-codes")
        page.click("#twofactor-backup-codes a.btn")
        page.wait_for_load_state("networkidle")


def delete_public_user(user_id: int) -> None:
    """Remove a test's own public-schema user with raw SQL (User.delete()'s cascade
    looks for tenant tables the public schema lacks), its two-factor devices first."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM otp_static_statictoken WHERE device_id IN "
                       "(SELECT id FROM otp_static_staticdevice WHERE user_id = %s)", [user_id])
        for table in ("otp_static_staticdevice", "otp_totp_totpdevice"):
            cursor.execute(f"DELETE FROM {table} WHERE user_id = %s", [user_id])  # noqa: S608
        cursor.execute("DELETE FROM accounts_user WHERE id = %s", [user_id])


def mark_second_factor_passed(client, user) -> None:
    """After `client.force_login(user)` (in the user's schema): the session also
    passed the second factor, with the user's device (a new one if it has none),
    as a finished login through verify would. Nothing for roles without it."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.policies import needs_second_factor
    from accounts.twofactor import totp_device_ensure

    if not needs_second_factor(user):
        return
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = totp_device_ensure(user=user).persistent_id
    session.save()
