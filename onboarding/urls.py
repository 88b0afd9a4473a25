from django.urls import path

from onboarding import views

urlpatterns = [path("", views.console_home, name="home")]
