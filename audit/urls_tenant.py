"""On a Pemda's host, beside the other Pemda-admin pages under manage/."""

from django.urls import path

from audit import views

urlpatterns = [path("manage/audit/", views.tenant_trail, name="audit_tenant")]
