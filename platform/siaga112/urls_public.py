"""The national console (public schema): localhost / the base domain."""

from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from siaga112.graphql_view import SiagaGraphQLView
from siaga112.schema import public_schema
from siaga112.urls_common import common_urlpatterns

urlpatterns = [
    *common_urlpatterns,
    # CSRF-exempt here because the view checks CSRF itself for session-authenticated
    # requests only (API tokens carry no cookie); permissions are checked per field.
    path("graphql/", csrf_exempt(SiagaGraphQLView.as_view(schema=public_schema)),
         name="graphql"),
    path("", include("reporting.urls_public")),
    path("", include("billing.urls_public")),
    path("", include("webhooks.urls_public")),
    path("", include("integration.urls_public")),
    path("", include("onboarding.urls")),
]

# Branded pages, the same on every host (siaga112.error_pages).
handler400 = "siaga112.error_pages.bad_request"
handler403 = "siaga112.error_pages.permission_denied"
handler404 = "siaga112.error_pages.page_not_found"
handler500 = "siaga112.error_pages.server_error"
