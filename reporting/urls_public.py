"""On the national host."""

from django.urls import path

from reporting import audit_trail, views_public

urlpatterns = [
    path("audit/", audit_trail.national_trail, name="audit_national"),
    path("kpi/", views_public.national_page, name="kpi_national"),
    path("kpi/provinsi/<str:code>/", views_public.province_page, name="kpi_province"),
]
