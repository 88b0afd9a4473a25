from django.urls import path

from incidents import views

urlpatterns = [path("", views.console_home, name="home")]
