"""The tenant URLconf plus onboarding's tenant routes, as the lead will wire them
(siaga112.urls_tenant is not ours to edit)."""

from django.urls import include, path
from siaga112.urls_tenant import urlpatterns as tenant_urlpatterns

urlpatterns = [path("", include("onboarding.urls_tenant")), *tenant_urlpatterns]
