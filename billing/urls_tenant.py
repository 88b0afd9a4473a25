from django.urls import path

from billing import views

urlpatterns = [
    path("tagihan/", views.tenant_list, name="billing_tenant"),
    path("tagihan/<int:invoice_id>.pdf", views.tenant_pdf, name="billing_tenant_pdf"),
]
