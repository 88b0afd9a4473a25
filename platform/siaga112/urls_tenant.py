"""A Pemda's own site (<slug>.localhost): the call center."""

from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from siaga112.graphql_view import SiagaGraphQLView
from siaga112.schema import tenant_schema
from siaga112.urls_common import common_urlpatterns

urlpatterns = [
    *common_urlpatterns,
    path("graphql/", csrf_exempt(SiagaGraphQLView.as_view(schema=tenant_schema)),
         name="graphql"),
    path("", include("onboarding.urls_tenant")),
    path("", include("reporting.urls_tenant")),
    path("", include("accounts.urls")),
    path("", include("integration.urls_tenant")),
    path("", include("incidents.urls")),
    path("", include("reporting.urls")),
    path("", include("billing.urls_tenant")),
    path("", include("webhooks.urls")),
]

# Branded pages, the same on every host (siaga112.error_pages).
handler400 = "siaga112.error_pages.bad_request"
handler403 = "siaga112.error_pages.permission_denied"
handler404 = "siaga112.error_pages.page_not_found"
handler500 = "siaga112.error_pages.server_error"
