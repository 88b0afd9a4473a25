"""A Pemda's webhook page (tenant hosts)."""

from django.urls import path

from webhooks import views

urlpatterns = [
    path("manage/webhooks/", views.manage_webhooks, name="manage_webhooks"),
    path("manage/webhooks/<int:subscription_id>/revoke/", views.manage_webhook_revoke,
         name="webhook_revoke"),
    path("manage/webhooks/deliveries/<int:delivery_id>/replay/", views.manage_delivery_replay,
         name="webhook_replay"),
]
