"""URLs served on a hotel group's own domain."""

from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from billing import views as billing_views
from saas.api.inbound_mail import inbound_mail
from saas.ui import (
    access as access_views,
)
from saas.ui import (
    admin_views,
    custom_records,
    designer,
    guest_profile,
    guests,
    i18n,
    imports,
    operations,
    reservations,
    roles,
    workflows,
)
from saas.ui import analytics as analytics_views
from saas.ui import platform as views
from saas.ui import service as service_views
from saas.ui.loyalty import views as loyalty_views
from saas.ui.marketing import public as marketing_public
from saas.ui.marketing import screens as marketing_screens
from saas.ui.service import cases as service_cases

password_reset = [
    path("password/reset/", access_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            success_url=reverse_lazy("password_reset_complete")
        ),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

settings_urls = [
    path("settings/", designer.settings_home, name="settings_home"),
    path("settings/modules/", admin_views.modules_view, name="settings_modules"),
    path("settings/api-keys/", admin_views.api_keys_view, name="settings_api_keys"),
    path(
        "settings/api-keys/<int:key_id>/revoke/",
        admin_views.api_key_revoke_view,
        name="settings_api_key_revoke",
    ),
    path("settings/users/", admin_views.users_view, name="settings_users"),
    path("settings/webhooks/", admin_views.webhooks_view, name="settings_webhooks"),
    path(
        "settings/webhooks/<int:endpoint_id>/",
        admin_views.webhook_detail_view,
        name="settings_webhook",
    ),
    path("settings/workspace/", admin_views.workspace_view, name="settings_workspace"),
    path(
        "settings/exchange-rates/",
        admin_views.exchange_rates_view,
        name="settings_exchange_rates",
    ),
    path("settings/templates/", admin_views.templates_view, name="settings_templates"),
    path(
        "settings/users/<int:user_id>/roles/",
        admin_views.user_roles_view,
        name="settings_user_roles",
    ),
    path("settings/users/<int:user_id>/", roles.user_edit_view, name="settings_user"),
    path(
        "settings/users/<int:user_id>/deactivate/",
        roles.user_deactivate_view,
        name="settings_user_deactivate",
    ),
    path("settings/roles/", roles.role_list_view, name="settings_roles"),
    path("settings/roles/<slug:key>/", roles.role_edit_view, name="settings_role"),
    path("settings/roles/<slug:key>/delete/", roles.role_delete_view, name="settings_role_delete"),
    path(
        "settings/roles/<slug:key>/objects/<slug:api_name>/",
        roles.role_fields_view,
        name="settings_role_fields",
    ),
    path("settings/grants/", roles.grants_view, name="settings_grants"),
    path(
        "settings/grants/<int:grant_id>/revoke/",
        roles.grant_revoke_view,
        name="settings_grant_revoke",
    ),
    path("settings/workflows/", workflows.workflow_list, name="settings_workflows"),
    path(
        "settings/workflows/new/",
        workflows.workflow_create_view,
        name="settings_workflow_create",
    ),
    path(
        "settings/workflows/<int:workflow_id>/",
        workflows.workflow_detail,
        name="settings_workflow",
    ),
    path(
        "settings/workflows/<int:workflow_id>/edit/",
        workflows.workflow_edit_view,
        name="settings_workflow_edit",
    ),
    path("settings/objects/", designer.object_list, name="settings_objects"),
    path("settings/objects/<slug:api_name>/fields/", designer.field_list, name="settings_fields"),
    path(
        "settings/objects/<slug:api_name>/fields/new/",
        designer.field_create,
        name="settings_field_create",
    ),
    path(
        "settings/objects/<slug:api_name>/fields/choice-row/",
        designer.field_choice_row,
        name="settings_field_choice_row",
    ),
    path(
        "settings/objects/<slug:api_name>/fields/<slug:name>/",
        designer.field_edit,
        name="settings_field_edit",
    ),
    path(
        "settings/objects/<slug:api_name>/fields/<slug:name>/archive/",
        designer.field_archive,
        name="settings_field_archive",
    ),
    path(
        "settings/objects/<slug:api_name>/fields/<slug:name>/type/",
        designer.field_type_change,
        name="settings_field_type_change",
    ),
]

# Records of tenant-defined objects (built-in objects have their own screens above).
record_urls = [
    path("records/<slug:api_name>/", custom_records.record_list, name="custom_record_list"),
    path(
        "records/<slug:api_name>/new/",
        custom_records.record_create_view,
        name="custom_record_create",
    ),
    path(
        "records/<slug:api_name>/<int:record_id>/",
        custom_records.record_detail,
        name="custom_record_detail",
    ),
    path(
        "records/<slug:api_name>/<int:record_id>/edit/",
        custom_records.record_edit_view,
        name="custom_record_edit",
    ),
    path(
        "records/<slug:api_name>/<int:record_id>/delete/",
        custom_records.record_delete_view,
        name="custom_record_delete",
    ),
]

urlpatterns = [
    path("", operations.dashboard, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    *password_reset,
    path("i18n/language/", i18n.set_language, name="set_language"),
    path("login/verify/", access_views.two_factor_verify_view, name="two_factor_verify"),
    path("account/two-factor/", access_views.two_factor_enrol_view, name="two_factor_enrol"),
    path("access/audit/", access_views.audit_log_view, name="audit_log"),
    path("account/password/", views.PasswordChange.as_view(), name="password_change"),
    path("guests/", guests.guest_list, name="guest_list"),
    path("guests/new/", guests.guest_create_view, name="guest_create"),
    path("guests/duplicates/", guests.duplicate_review, name="guest_duplicates"),
    path("guests/<int:guest_id>/", guests.guest_detail, name="guest_detail"),
    path("guests/<int:guest_id>/edit/", guests.guest_edit_view, name="guest_edit"),
    path(
        "guests/<int:guest_id>/activities/",
        guests.guest_activity_create_view,
        name="guest_activity_create",
    ),
    path(
        "guests/<int:guest_id>/activities/<int:activity_id>/complete/",
        guests.guest_task_complete_view,
        name="guest_task_complete",
    ),
    path("guests/merges/<int:merge_id>/undo/", guests.merge_undo_view, name="guest_merge_undo"),
    *[
        path(f"guests/<int:guest_id>/{route}", view, name=name)
        for route, view, name in (
            ("contacts/", guest_profile.guest_contacts_view, "guest_contacts"),
            ("preferences/", guest_profile.guest_preferences_view, "guest_preferences"),
            ("consents/", guest_profile.guest_consent_view, "guest_consent"),
            ("export/", guest_profile.guest_export_view, "guest_export"),
            ("erase/", guest_profile.guest_erase_view, "guest_erase"),
        )
    ],
    path("reservations/", operations.reservation_list, name="reservation_list"),
    path(
        "reservations/<int:reservation_id>/",
        operations.reservation_detail,
        name="reservation_detail",
    ),
    path(
        "reservations/<int:reservation_id>/status/",
        reservations.reservation_status_view,
        name="reservation_status",
    ),
    path(
        "reservations/<int:reservation_id>/folio/",
        reservations.reservation_folio_view,
        name="reservation_folio",
    ),
    path("companies/", operations.company_list, name="company_list"),
    *record_urls,
    path("imports/", imports.import_wizard, name="import_wizard"),
    path("imports/jobs/<uuid:job_id>/", imports.import_job, name="import_job"),
    *settings_urls,
    path("jobs/diagnostic/", views.job_diagnostic_start, name="job_diagnostic_start"),
    path("billing/", billing_views.tenant_billing, name="billing"),
    path("billing/checkout/", billing_views.tenant_checkout, name="billing_checkout"),
    path("billing/portal/", billing_views.tenant_portal, name="billing_portal"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("loyalty/", loyalty_views.programme_view, name="loyalty_programme"),
    path("loyalty/action/", loyalty_views.programme_action, name="loyalty_programme_action"),
    path("loyalty/members/", loyalty_views.members_view, name="loyalty_members"),
    path("loyalty/members/<int:member_id>/", loyalty_views.member_view, name="loyalty_member"),
    path(
        "loyalty/members/<int:member_id>/action/",
        loyalty_views.member_action,
        name="loyalty_member_action",
    ),
    path("guests/<int:guest_id>/enrol/", loyalty_views.guest_enrol, name="loyalty_guest_enrol"),
    # A campaign's recipients, through signed links (no sign-in).
    path("m/o/<str:token>.gif", marketing_public.open_pixel, name="marketing_open"),
    path("m/c/<str:token>/", marketing_public.click, name="marketing_click"),
    path("m/u/<str:token>/", marketing_public.unsubscribe_page, name="marketing_unsubscribe"),
    # E-mail providers' delivery reports (bounces, complaints), verified by signature.
    path(
        "webhooks/mail/<slug:esp>/tracking/",
        marketing_public.esp_tracking,
        name="marketing_esp_tracking",
    ),
    path("marketing/segments/", marketing_screens.segment_list, name="marketing_segments"),
    path(
        "marketing/segments/count/",
        marketing_screens.segment_count,
        name="marketing_segment_count",
    ),
    path("marketing/templates/", marketing_screens.template_list, name="marketing_templates"),
    path(
        "marketing/templates/<int:template_id>/",
        marketing_screens.template_preview,
        name="marketing_template",
    ),
    path("marketing/campaigns/", marketing_screens.campaign_list, name="marketing_campaigns"),
    path(
        "marketing/campaigns/<int:campaign_id>/",
        marketing_screens.campaign_report_view,
        name="marketing_campaign",
    ),
    path("service/queue/", service_views.service_queue, name="service_queue"),
    path("analytics/", analytics_views.analytics_reports, name="analytics_reports"),
    path("analytics/churn-model/", analytics_views.analytics_churn, name="analytics_churn"),
    path("analytics/warnings/", analytics_views.analytics_warnings, name="analytics_warnings"),
    path("service/satisfaction/", service_views.service_satisfaction, name="service_satisfaction"),
    path("service/cases/new/", service_cases.case_new, name="service_case_new"),
    path("service/cases/<int:case_id>/", service_cases.case_page, name="service_case"),
    path(
        "service/cases/<int:case_id>/action/",
        service_cases.case_action,
        name="service_case_action",
    ),
    path("webhooks/mail/<slug:provider>/inbound/", inbound_mail, name="inbound_mail"),
    # A guest's survey, through its signed link (no sign-in).
    path("survey/<str:token>/", service_views.survey_answer_view, name="survey_answer"),
    path("api/v1/", include("saas.api.urls")),
]

handler404 = "saas.api.errors.not_found"
