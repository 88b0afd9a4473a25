"""The tenant URLconf plus views that fail on purpose, for the error-page tests."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.urls import path
from siaga112.urls_tenant import handler400, handler403, handler404, handler500  # noqa: F401
from siaga112.urls_tenant import urlpatterns as tenant_urlpatterns


def boom(request):
    # What a careless exception could carry: a setting and a caller's number.
    raise RuntimeError(f"boom {settings.SECRET_KEY} from +6281234567890 ROOT_URLCONF")


def denied(request):
    raise PermissionDenied("internal reason nobody should read")


def db_down(request):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")


urlpatterns = [
    path("probe/boom/", boom),
    path("probe/denied/", denied),
    path("probe/db-down/", db_down),
    path("api/probe/db-down/", db_down),
    *tenant_urlpatterns,
]
