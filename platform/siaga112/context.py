from django.conf import settings
from django.http import HttpRequest


def platform(request: HttpRequest) -> dict[str, object]:
    tenant = getattr(request, "tenant", None)
    return {
        "current_tenant": tenant,
        "is_public_site": tenant is None or tenant.schema_name == "public",
        "map_tiles_url": settings.SIAGA112["MAP_TILES_URL"],
    }
