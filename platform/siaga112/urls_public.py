"""The national console (public schema): localhost / the base domain."""

from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from graphene_django.views import GraphQLView

from siaga112.schema import public_schema
from siaga112.urls_common import common_urlpatterns

urlpatterns = [
    *common_urlpatterns,
    # CSRF-exempt: GraphQL clients authenticate by session for officers and by
    # token for integrations; the views check permission on every field.
    path("graphql/", csrf_exempt(GraphQLView.as_view(graphiql=True, schema=public_schema)),
         name="graphql"),
    path("", include("reporting.urls_public")),
    path("", include("billing.urls_public")),
    path("", include("onboarding.urls")),
]
