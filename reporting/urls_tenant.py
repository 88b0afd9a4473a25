"""On a Pemda's host, beside the other Pemda-admin pages under manage/."""

from django.urls import path

from reporting import audit_trail

urlpatterns = [
    path("manage/audit/", audit_trail.tenant_trail, name="audit_tenant"),
    path("manage/audit/history/", audit_trail.tenant_history, name="audit_tenant_history"),
]
