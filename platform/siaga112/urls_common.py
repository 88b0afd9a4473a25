"""Routes every host has: health, favicon, login, language switch."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts.views import (
    invitation_accept_view,
    twofactor_account,
    twofactor_backup_codes,
    twofactor_enrol,
    twofactor_users,
    twofactor_verify,
)
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
    # Two-factor login (accounts.twofactor); verify and enrol are reachable before it.
    path("accounts/2fa/", twofactor_account, name="twofactor_account"),
    path("accounts/2fa/verify/", twofactor_verify, name="twofactor_verify"),
    path("accounts/2fa/enrol/", twofactor_enrol, name="twofactor_enrol"),
    path("accounts/2fa/backup-codes/", twofactor_backup_codes, name="twofactor_backup_codes"),
    path("accounts/2fa/users/", twofactor_users, name="twofactor_users"),
    path("accounts/invite/<str:token>/", invitation_accept_view, name="invitation_accept"),
    path("i18n/", include("django.conf.urls.i18n")),
]
