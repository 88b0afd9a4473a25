from django.urls import path

from reporting import views

urlpatterns = [
    path("laporan/", views.dashboard, name="kpi_dashboard"),
    path("laporan/insiden/", views.drill_down, name="kpi_drill_down"),
    path("laporan/export.<str:fmt>", views.export, name="kpi_export"),
    path("laporan/bulanan/", views.monthly_reports, name="kpi_monthly"),
    path("laporan/bulanan/<int:report_id>.pdf", views.monthly_report_download,
         name="kpi_monthly_pdf"),
]
