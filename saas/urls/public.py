"""URLs of the public site (the platform's own domain)."""

from django.urls import path

from billing import views as billing_views
from saas.observability.metrics import metrics_view
from saas.ui import i18n
from saas.ui import platform as views

urlpatterns = [
    path("", views.public_home, name="public_home"),
    path("pricing/", billing_views.pricing, name="pricing"),
    path("signup/", billing_views.signup, name="signup"),
    path("signup/confirm/<str:token>/", billing_views.signup_confirm, name="signup_confirm"),
    path("i18n/language/", i18n.set_language, name="set_language"),
    path("stripe/webhook/", billing_views.stripe_webhook, name="stripe_webhook"),
    # Prometheus, on the platform's host only (never in the tenant URL conf).
    path("metrics", metrics_view, name="metrics"),
]
