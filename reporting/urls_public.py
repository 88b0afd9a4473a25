from django.urls import path

from reporting import views_public

urlpatterns = [
    path("kpi/", views_public.national_page, name="kpi_national"),
    path("kpi/provinsi/<str:code>/", views_public.province_page, name="kpi_province"),
]
