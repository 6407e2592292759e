"""URLs of the public site (the platform's own domain)."""

from django.urls import path

from saas import views

urlpatterns = [
    path("", views.public_home, name="public_home"),
]
