"""Onboarding on a Pemda's own host (include from siaga112.urls_tenant)."""

from django.urls import path

from onboarding import views

urlpatterns = [path("onboarding/", views.tenant_status, name="onboarding_tenant_status")]
