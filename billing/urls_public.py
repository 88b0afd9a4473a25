from django.urls import path

from billing import views

urlpatterns = [
    path("tagihan/", views.national_list, name="billing_national"),
    path("tagihan/<int:invoice_id>/lunas/", views.mark_paid, name="billing_mark_paid"),
    path("tagihan/<int:invoice_id>.pdf", views.national_pdf, name="billing_national_pdf"),
]
