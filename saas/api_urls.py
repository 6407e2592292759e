from django.urls import path

from saas import api_views

urlpatterns = [
    path("me/", api_views.MeApi.as_view(), name="api_me"),
    path("jobs/", api_views.JobListCreateApi.as_view(), name="api_jobs"),
    path("jobs/<uuid:job_id>/", api_views.JobDetailApi.as_view(), name="api_job_detail"),
]
