"""On the national host."""

from django.urls import path

from audit import views

urlpatterns = [path("audit/", views.national_trail, name="audit_national")]
