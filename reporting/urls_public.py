"""On the national host."""

from django.urls import path

from reporting import audit_trail

urlpatterns = [path("audit/", audit_trail.national_trail, name="audit_national")]
