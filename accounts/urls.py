"""The tenant site's staff pages (included by siaga112.urls_tenant)."""

from django.urls import path

from accounts import views

urlpatterns = [
    path("manage/users/", views.manage_users, name="manage_users"),
]
