from django.urls import path

from onboarding import views

# No namespace: LOGIN_REDIRECT_URL is the bare name "home" on every host.
urlpatterns = [
    path("", views.console_home, name="home"),
    path("provinsi/<str:code>/", views.province_page, name="onboarding_province"),
    path("pemda/", views.pemda_list, name="onboarding_list"),
    path("pemda/<str:code>/", views.pemda_page, name="onboarding_pemda"),
    path("pemda/<str:code>/surat.pdf", views.letter_download, name="onboarding_letter"),
    path("pemda/<str:code>/<str:action>/", views.pemda_action, name="onboarding_action"),
]
