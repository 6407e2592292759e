from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from saas.api import access as access_api
from saas.api import activities as api_activities
from saas.api import analytics as api_analytics
from saas.api import grants as api_grants
from saas.api import guest_profile as api_guest
from saas.api import loyalty as api_loyalty
from saas.api import marketing as api_marketing
from saas.api import metadata as api_metadata
from saas.api import platform as api_views
from saas.api import records as api_records
from saas.api import reservation_folio as api_folio
from saas.api import service as api_service
from saas.api import service_desk as api_desk
from saas.api import users as api_users
from saas.api import webhooks as api_webhooks
from saas.api import workflows as api_workflows

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api_schema"), name="api_redoc"),
    path("me/", api_views.MeApi.as_view(), name="api_me"),
    path("access/me/", access_api.AccessMeApi.as_view(), name="api_access_me"),
    path("access/audit/", access_api.AuditEventListApi.as_view(), name="api_access_audit"),
    path("users/", api_users.UserListApi.as_view(), name="api_users"),
    path("users/<int:pk>/", api_users.UserDetailApi.as_view(), name="api_user"),
    path("roles/", api_users.RoleListApi.as_view(), name="api_roles"),
    path("roles/<slug:key>/", api_users.RoleDetailApi.as_view(), name="api_role"),
    path("grants/", api_grants.GrantListApi.as_view(), name="api_grants"),
    path("grants/<int:pk>/", api_grants.GrantDetailApi.as_view(), name="api_grant"),
    path("activities/", api_activities.ActivityListApi.as_view(), name="api_activities"),
    path("activities/<int:pk>/", api_activities.ActivityDetailApi.as_view(), name="api_activity"),
    path(
        "activities/<int:pk>/complete/",
        api_activities.ActivityCompleteApi.as_view(),
        name="api_activity_complete",
    ),
    # A guest's lists and the privacy tools (three segments: before the collections).
    *[
        path(f"guests/<int:pk>/{route}", view.as_view(), name=name)
        for route, view, name in (
            ("consents/", api_guest.GuestConsentsApi, "api_guest_consents"),
            ("preferences/", api_guest.GuestPreferencesApi, "api_guest_preferences"),
            ("preferences/<int:item>/", api_guest.GuestPreferenceDetailApi, "api_guest_preference"),
            ("emails/", api_guest.GuestEmailsApi, "api_guest_emails"),
            ("emails/<int:item>/", api_guest.GuestEmailDetailApi, "api_guest_email"),
            (
                "emails/<int:item>/primary/",
                api_guest.GuestEmailPrimaryApi,
                "api_guest_email_primary",
            ),
            ("phones/", api_guest.GuestPhonesApi, "api_guest_phones"),
            ("phones/<int:item>/", api_guest.GuestPhoneDetailApi, "api_guest_phone"),
            (
                "phones/<int:item>/primary/",
                api_guest.GuestPhonePrimaryApi,
                "api_guest_phone_primary",
            ),
            ("addresses/", api_guest.GuestAddressesApi, "api_guest_addresses"),
            ("export/", api_guest.GuestExportApi, "api_guest_export"),
            ("erase/", api_guest.GuestEraseApi, "api_guest_erase"),
        )
    ],
    path("tasks/open/", api_activities.MyOpenTasksApi.as_view(), name="api_tasks_open"),
    path("jobs/", api_views.JobListCreateApi.as_view(), name="api_jobs"),
    path("jobs/<uuid:job_id>/", api_views.JobDetailApi.as_view(), name="api_job_detail"),
    path(
        "webhooks/event-types/",
        api_webhooks.EventTypeListApi.as_view(),
        name="api_webhook_event_types",
    ),
    path(
        "webhooks/endpoints/", api_webhooks.EndpointListApi.as_view(), name="api_webhook_endpoints"
    ),
    path(
        "webhooks/endpoints/<int:pk>/",
        api_webhooks.EndpointDetailApi.as_view(),
        name="api_webhook_endpoint",
    ),
    path(
        "webhooks/endpoints/<int:pk>/deliveries/",
        api_webhooks.DeliveryListApi.as_view(),
        name="api_webhook_deliveries",
    ),
    path(
        "webhooks/deliveries/<int:pk>/redeliver/",
        api_webhooks.RedeliverApi.as_view(),
        name="api_webhook_redeliver",
    ),
    # Tenant-defined objects (built-in ones answer on their collections below).
    path(
        "objects/<slug:api_name>/records/",
        api_records.RecordListApi.as_view(),
        name="api_records",
    ),
    path(
        "objects/<slug:api_name>/records/bulk/",
        api_records.RecordBulkApi.as_view(),
        name="api_records_bulk",
    ),
    path(
        "objects/<slug:api_name>/records/<str:pk>/",
        api_records.RecordDetailApi.as_view(),
        name="api_record",
    ),
    path("metadata/objects/", api_metadata.ObjectListApi.as_view(), name="api_md_objects"),
    path(
        "metadata/objects/<slug:api_name>/",
        api_metadata.ObjectDetailApi.as_view(),
        name="api_md_object",
    ),
    path(
        "metadata/objects/<slug:api_name>/fields/",
        api_metadata.FieldListApi.as_view(),
        name="api_md_fields",
    ),
    path(
        "metadata/objects/<slug:api_name>/fields/<slug:field>/",
        api_metadata.FieldDetailApi.as_view(),
        name="api_md_field",
    ),
    path(
        "metadata/objects/<slug:api_name>/fields/<slug:field>/archive/",
        api_metadata.FieldArchiveApi.as_view(),
        name="api_md_field_archive",
    ),
    path(
        "metadata/objects/<slug:api_name>/fields/<slug:field>/type-change/",
        api_metadata.FieldTypeChangeApi.as_view(),
        name="api_md_field_type_change",
    ),
    # Workflows (before the generic collections, whose <slug> would take "workflows").
    path("workflows/", api_workflows.WorkflowListApi.as_view(), name="api_workflows"),
    path(
        "workflows/actions/",
        api_workflows.WorkflowActionListApi.as_view(),
        name="api_workflow_actions",
    ),
    path(
        "workflows/templates/",
        api_workflows.WorkflowTemplateListApi.as_view(),
        name="api_workflow_templates",
    ),
    path(
        "workflows/templates/<slug:name>/import/",
        api_workflows.WorkflowTemplateImportApi.as_view(),
        name="api_workflow_template_import",
    ),
    path(
        "workflows/runs/<int:run_id>/",
        api_workflows.WorkflowRunDetailApi.as_view(),
        name="api_workflow_run",
    ),
    path("workflows/<str:ref>/", api_workflows.WorkflowDetailApi.as_view(), name="api_workflow"),
    path(
        "workflows/<str:ref>/dry-run/",
        api_workflows.WorkflowDryRunApi.as_view(),
        name="api_workflow_dry_run",
    ),
    path(
        "workflows/<str:ref>/run/",
        api_workflows.WorkflowRunApi.as_view(),
        name="api_workflow_run_now",
    ),
    path(
        "workflows/<str:ref>/runs/",
        api_workflows.WorkflowRunListApi.as_view(),
        name="api_workflow_runs",
    ),
    # The loyalty module (before the generic collections, whose <slug> would take it).
    path("loyalty/programme/", api_loyalty.ProgrammeApi.as_view(), name="api_loyalty_programme"),
    path("loyalty/tiers/", api_loyalty.TierListApi.as_view(), name="api_loyalty_tiers"),
    path("loyalty/tiers/<slug:key>/", api_loyalty.TierDetailApi.as_view(), name="api_loyalty_tier"),
    path("loyalty/members/", api_loyalty.MemberListApi.as_view(), name="api_loyalty_members"),
    path(
        "loyalty/members/<int:pk>/",
        api_loyalty.MemberDetailApi.as_view(),
        name="api_loyalty_member",
    ),
    path(
        "loyalty/members/<int:pk>/statement/",
        api_loyalty.MemberStatementApi.as_view(),
        name="api_loyalty_member_statement",
    ),
    path("loyalty/ledger/", api_loyalty.LedgerApi.as_view(), name="api_loyalty_ledger"),
    path("loyalty/rewards/", api_loyalty.RewardListApi.as_view(), name="api_loyalty_rewards"),
    path(
        "loyalty/redemptions/",
        api_loyalty.RedemptionListApi.as_view(),
        name="api_loyalty_redemptions",
    ),
    path(
        "loyalty/redemptions/<int:pk>/",
        api_loyalty.RedemptionDetailApi.as_view(),
        name="api_loyalty_redemption",
    ),
    path(
        "loyalty/redemptions/<int:pk>/confirm/",
        api_loyalty.RedemptionConfirmApi.as_view(),
        name="api_loyalty_redemption_confirm",
    ),
    path(
        "loyalty/redemptions/<int:pk>/cancel/",
        api_loyalty.RedemptionCancelApi.as_view(),
        name="api_loyalty_redemption_cancel",
    ),
    # The analytics module (before the generic collections, as loyalty).
    path("analytics/scores/", api_analytics.ScoreListApi.as_view(), name="api_analytics_scores"),
    path(
        "analytics/scores/<int:guest_id>/",
        api_analytics.ScoreDetailApi.as_view(),
        name="api_analytics_score",
    ),
    path(
        "analytics/churn-model/",
        api_analytics.ChurnModelApi.as_view(),
        name="api_analytics_churn_model",
    ),
    path("analytics/refresh/", api_analytics.RefreshApi.as_view(), name="api_analytics_refresh"),
    path(
        "analytics/warnings/", api_analytics.WarningListApi.as_view(), name="api_analytics_warnings"
    ),
    path(
        "analytics/reports/<slug:name>/",
        api_analytics.ReportApi.as_view(),
        name="api_analytics_report",
    ),
    # The marketing module (before the generic collections, as loyalty).
    path(
        "offers/",
        api_marketing.OfferListApi.as_view(),
        name="api_offers",
    ),
    path(
        "offers/validate/",
        api_marketing.OfferValidateApi.as_view(),
        name="api_offer_validate",
    ),
    path(
        "offers/redeem/",
        api_marketing.OfferRedeemApi.as_view(),
        name="api_offer_redeem",
    ),
    path(
        "offers/<int:pk>/",
        api_marketing.OfferDetailApi.as_view(),
        name="api_offer",
    ),
    path(
        "offers/<int:pk>/codes/",
        api_marketing.OfferCodesApi.as_view(),
        name="api_offer_codes",
    ),
    path(
        "marketing/segments/",
        api_marketing.SegmentListApi.as_view(),
        name="api_marketing_segments",
    ),
    path(
        "marketing/segments/count/",
        api_marketing.SegmentCountApi.as_view(),
        name="api_marketing_segment_count",
    ),
    path(
        "marketing/segments/<int:pk>/",
        api_marketing.SegmentDetailApi.as_view(),
        name="api_marketing_segment",
    ),
    path(
        "marketing/segments/<int:pk>/members/",
        api_marketing.SegmentMembersApi.as_view(),
        name="api_marketing_segment_members",
    ),
    path(
        "marketing/segments/<int:pk>/snapshot/",
        api_marketing.SegmentSnapshotApi.as_view(),
        name="api_marketing_segment_snapshot",
    ),
    path(
        "marketing/templates/",
        api_marketing.TemplateListApi.as_view(),
        name="api_marketing_templates",
    ),
    path(
        "marketing/templates/<int:pk>/",
        api_marketing.TemplateDetailApi.as_view(),
        name="api_marketing_template",
    ),
    path(
        "marketing/templates/<int:pk>/preview/",
        api_marketing.TemplatePreviewApi.as_view(),
        name="api_marketing_template_preview",
    ),
    path(
        "marketing/templates/<int:pk>/test/",
        api_marketing.TemplateTestApi.as_view(),
        name="api_marketing_template_test",
    ),
    path(
        "marketing/campaigns/",
        api_marketing.CampaignListApi.as_view(),
        name="api_marketing_campaigns",
    ),
    path(
        "marketing/campaigns/<int:pk>/",
        api_marketing.CampaignDetailApi.as_view(),
        name="api_marketing_campaign",
    ),
    path(
        "marketing/campaigns/<int:pk>/schedule/",
        api_marketing.CampaignScheduleApi.as_view(),
        name="api_marketing_campaign_schedule",
    ),
    path(
        "marketing/campaigns/<int:pk>/pause/",
        api_marketing.CampaignPauseApi.as_view(),
        name="api_marketing_campaign_pause",
    ),
    path(
        "marketing/campaigns/<int:pk>/resume/",
        api_marketing.CampaignResumeApi.as_view(),
        name="api_marketing_campaign_resume",
    ),
    path(
        "marketing/campaigns/<int:pk>/cancel/",
        api_marketing.CampaignCancelApi.as_view(),
        name="api_marketing_campaign_cancel",
    ),
    path(
        "marketing/campaigns/<int:pk>/report/",
        api_marketing.CampaignReportApi.as_view(),
        name="api_marketing_campaign_report",
    ),
    path(
        "marketing/campaigns/<int:pk>/recipients/",
        api_marketing.CampaignRecipientsApi.as_view(),
        name="api_marketing_campaign_recipients",
    ),
    path(
        "marketing/suppressions/",
        api_marketing.SuppressionListApi.as_view(),
        name="api_marketing_suppressions",
    ),
    # The service desk module (before the generic collections, as loyalty).
    path("service-levels/", api_service.ServiceLevelListApi.as_view(), name="api_service_levels"),
    path(
        "service-levels/<int:pk>/",
        api_service.ServiceLevelDetailApi.as_view(),
        name="api_service_level",
    ),
    path("service-calendars/", api_service.CalendarListApi.as_view(), name="api_service_calendars"),
    path("cases/<int:pk>/sla/", api_service.CaseSlaApi.as_view(), name="api_case_sla"),
    path(
        "cases/<int:pk>/messages/",
        api_service.CaseMessagesApi.as_view(),
        name="api_case_messages",
    ),
    path(
        "cases/inbound-email/",
        api_service.InboundEmailApi.as_view(),
        name="api_case_inbound_email",
    ),
    path(
        "cases/<int:pk>/sla/pause/",
        api_service.CaseSlaPauseApi.as_view(),
        name="api_case_sla_pause",
    ),
    path(
        "cases/<int:pk>/sla/resume/",
        api_service.CaseSlaResumeApi.as_view(),
        name="api_case_sla_resume",
    ),
    path("surveys/", api_service.SurveyListApi.as_view(), name="api_surveys"),
    path("surveys/<int:pk>/", api_service.SurveyDetailApi.as_view(), name="api_survey"),
    path(
        "surveys/<int:pk>/invitations/",
        api_service.SurveyInvitationApi.as_view(),
        name="api_survey_invitations",
    ),
    path("survey-responses/", api_service.ResponseListApi.as_view(), name="api_survey_responses"),
    path(
        "survey-responses/<int:pk>/",
        api_service.ResponseDetailApi.as_view(),
        name="api_survey_response",
    ),
    path("survey-measures/", api_service.MeasuresApi.as_view(), name="api_survey_measures"),
    path("service-measures/", api_service.SlaMeasuresApi.as_view(), name="api_service_measures"),
    path("cases/<int:pk>/assign/", api_desk.CaseAssignApi.as_view(), name="api_case_assign"),
    path("cases/<int:pk>/merge/", api_desk.CaseMergeApi.as_view(), name="api_case_merge"),
    path(
        "cases/<int:pk>/compensations/",
        api_desk.CaseCompensationsApi.as_view(),
        name="api_case_compensations",
    ),
    path(
        "compensations/<int:pk>/decide/",
        api_desk.CompensationDecideApi.as_view(),
        name="api_compensation_decide",
    ),
    path(
        "case-assignment-rules/",
        api_desk.AssignmentRuleListApi.as_view(),
        name="api_case_assignment_rules",
    ),
    path(
        "case-assignment-rules/<int:pk>/",
        api_desk.AssignmentRuleDetailApi.as_view(),
        name="api_case_assignment_rule",
    ),
    path(
        "reservations/<int:pk>/folio/",
        api_folio.ReservationFolioApi.as_view(),
        name="api_reservation_folio",
    ),
    path(
        "reservations/<int:pk>/payments/",
        api_folio.ReservationPaymentsApi.as_view(),
        name="api_reservation_payments",
    ),
    path(
        "reservations/<int:pk>/status/",
        api_folio.ReservationStatusApi.as_view(),
        name="api_reservation_status",
    ),
    path(
        "reservations/ota",
        api_records.OtaReservationPushApi.as_view(),
        name="api_reservations_ota",
    ),
    path("reservations/ota/", api_records.OtaReservationPushApi.as_view()),
    # Built-in objects: /guests/, /companies/, /properties/, /room-types/, /rate-plans/,
    # /reservations/ (last, so the fixed paths above win).
    path("<slug:collection>/", api_records.RecordListApi.as_view(), name="api_collection"),
    path(
        "<slug:collection>/export/",
        api_records.RecordExportApi.as_view(),
        name="api_collection_export",
    ),
    path(
        "<slug:collection>/bulk/",
        api_records.RecordBulkApi.as_view(),
        name="api_collection_bulk",
    ),
    path(
        "<slug:collection>/<str:pk>/",
        api_records.RecordDetailApi.as_view(),
        name="api_collection_item",
    ),
]
