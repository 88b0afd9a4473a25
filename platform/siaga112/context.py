from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import Role

# The public host's title by role: a provincial officer does not work on a
# "national console", a Pemda coordinator only sees their own Pemda.
PUBLIC_TITLES: dict[str, object] = {
    Role.NATIONAL_OFFICER: _("National console"),
    Role.AUDITOR: _("National console"),
    Role.PROVINCIAL_OFFICER: _("Provincial console"),
    Role.PEMDA_COORDINATOR: _("Pemda onboarding"),
}


def platform(request: HttpRequest) -> dict[str, object]:
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    role = getattr(user, "role", "") if getattr(user, "is_authenticated", False) else ""
    return {
        "current_tenant": tenant,
        "is_public_site": tenant is None or tenant.schema_name == "public",
        "public_title": PUBLIC_TITLES.get(str(role or ""), _("National console")),
        "map_tiles_url": settings.SIAGA112["MAP_TILES_URL"],
    }
