"""The demo's authenticator app: `siaga112 totp dairi supervisor` prints the code
the user's enrolled TOTP device shows now (`localhost` or `public` for the
national site's accounts). It reads the device's secret from the database, so it
is for a laptop's demo, like the secrets in var/demo-credentials.json."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context

from accounts.models import User
from accounts.twofactor import totp_current_code
from tenants.models import Domain, Tenant


def schema_for(where: str) -> str:
    """`localhost`, `public`, a host (`dairi.localhost[:8000]`), a slug or a schema name."""
    name = where.strip().lower().split("://")[-1].split("/")[0].rsplit(":", 1)[0]
    if name in {"public", settings.BASE_DOMAIN, "localhost"}:
        return "public"
    domain = Domain.objects.select_related("tenant").filter(domain=name).first()
    if domain is not None:
        return str(domain.tenant.schema_name)
    tenant = (Tenant.objects.filter(region__slug=name).first()
              or Tenant.objects.filter(schema_name=name).first())
    if tenant is None:
        raise CommandError(f"no Pemda host or tenant named {where!r}")
    return str(tenant.schema_name)


class Command(BaseCommand):
    help = "Print the current two-factor (TOTP) code of a user, for the demo."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("where", help="host or tenant: localhost, dairi, dairi.localhost")
        parser.add_argument("username")

    def handle(self, *args: Any, **opts: Any) -> None:
        schema = schema_for(opts["where"])
        with schema_context(schema):
            user = User.objects.filter(username=opts["username"]).first()
            if user is None:
                raise CommandError(f"no user {opts['username']!r} on {opts['where']!r}")
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                raise CommandError(f"{user.username} has no two-factor device (yet)")
            code = totp_current_code(device)
            left = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(code)
        self.stderr.write(f"valid for {left} more seconds")
