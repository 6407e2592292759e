"""URLs served on a hotel group's own domain."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from billing import views as billing_views
from saas import access_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/verify/", access_views.two_factor_verify_view, name="two_factor_verify"),
    path("account/two-factor/", access_views.two_factor_enrol_view, name="two_factor_enrol"),
    path("access/audit/", access_views.audit_log_view, name="audit_log"),
    path("account/password/", views.PasswordChange.as_view(), name="password_change"),
    path("guests/", views.guest_list, name="guest_list"),
    path("jobs/diagnostic/", views.job_diagnostic_start, name="job_diagnostic_start"),
    path("billing/", billing_views.tenant_billing, name="billing"),
    path("billing/checkout/", billing_views.tenant_checkout, name="billing_checkout"),
    path("billing/portal/", billing_views.tenant_portal, name="billing_portal"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("api/v1/", include("saas.api_urls")),
]
