from django.urls import path

from integration import views

urlpatterns = [path("integrasi/token/", views.national_tokens, name="national_tokens")]
