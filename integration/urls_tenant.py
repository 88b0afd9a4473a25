from django.urls import path

from integration import views

urlpatterns = [path("manage/tokens/", views.tenant_tokens, name="tenant_tokens")]
