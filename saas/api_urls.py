from django.urls import path

from saas import access_api, api_views

urlpatterns = [
    path("me/", api_views.MeApi.as_view(), name="api_me"),
    path("access/me/", access_api.AccessMeApi.as_view(), name="api_access_me"),
    path("access/audit/", access_api.AuditEventListApi.as_view(), name="api_access_audit"),
    path("jobs/", api_views.JobListCreateApi.as_view(), name="api_jobs"),
    path("jobs/<uuid:job_id>/", api_views.JobDetailApi.as_view(), name="api_job_detail"),
]
