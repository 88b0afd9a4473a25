"""Routes every host has: health, favicon, login, language switch."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import invitation_accept_view
from siaga112.assets import favicon
from siaga112.health import healthz

common_urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html"),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/invite/<str:token>/", invitation_accept_view, name="invitation_accept"),
    path("i18n/", include("django.conf.urls.i18n")),
]
