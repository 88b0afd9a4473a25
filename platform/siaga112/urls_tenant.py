"""A Pemda's own site (<slug>.localhost): the call center."""

from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView

from siaga112.schema import tenant_schema
from siaga112.urls_common import common_urlpatterns

urlpatterns = [
    *common_urlpatterns,
    path("graphql/", csrf_exempt(GraphQLView.as_view(graphiql=True, schema=tenant_schema)),
         name="graphql"),
    path("", include("onboarding.urls_tenant")),
    path("", include("incidents.urls")),
    path("", include("reporting.urls")),
    path("", include("billing.urls_tenant")),
]
