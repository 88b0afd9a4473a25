from django.urls import path

from reporting import views

urlpatterns = [
    path("laporan/", views.dashboard, name="kpi_dashboard"),
    path("laporan/insiden/", views.drill_down, name="kpi_drill_down"),
    path("laporan/export.<str:fmt>", views.export, name="kpi_export"),
]
