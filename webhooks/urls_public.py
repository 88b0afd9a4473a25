"""Province webhook subscribers (the national host)."""

from django.urls import path

from webhooks import views

urlpatterns = [
    path("webhooks/", views.province_webhooks, name="province_webhooks"),
    path("webhooks/<int:subscription_id>/revoke/", views.province_webhook_revoke,
         name="province_webhook_revoke"),
    path("webhooks/deliveries/<int:delivery_id>/replay/", views.province_delivery_replay,
         name="province_webhook_replay"),
]
