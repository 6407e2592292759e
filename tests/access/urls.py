"""The tenant URLs plus one generic resource built the way the CRM's REST resources
are (AccessControlledApi), so the permission class is exercised over HTTP before
those resources exist. Used with ``@pytest.mark.urls("tests.access.urls")``."""

from __future__ import annotations

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.models import Guest
from saas.urls.tenant import urlpatterns as tenant_urlpatterns
from tenants.access.drf import AccessControlledApi
from tenants.access.principal import Principal
from tenants.access.services import audit_export_log


def _rows(object_api_name: str) -> list[dict]:
    if object_api_name == "guest":
        return [
            {
                "id": g.pk,
                "given_name": g.given_name,
                "surname": g.surname,
                "email": g.email,
                "custom": dict(g.custom),
            }
            for g in Guest.objects.order_by("pk")
        ]
    return [{"id": 1, "name": f"one {object_api_name}"}]


class RecordsApi(AccessControlledApi, APIView):
    def get_access_object(self) -> str:
        return self.kwargs["object_api_name"]

    def get_access_action(self, request) -> str:
        if request.method == "GET" and request.query_params.get("export"):
            return "export"
        return super().get_access_action(request)

    def get(self, request, object_api_name):
        rows = self.access_mask_many(_rows(object_api_name))
        if request.query_params.get("export"):
            audit_export_log(
                actor=Principal.from_request(request),
                object_api_name=object_api_name,
                record_count=len(rows),
                fields=sorted({key for row in rows for key in row}),
                export_format="csv",
            )
        return Response({"results": rows})

    def post(self, request, object_api_name):
        self.access_require_editable(request.data.keys())
        return Response({"created": True}, status=201)

    def patch(self, request, object_api_name):
        self.access_require_editable(request.data.keys())
        return Response({"updated": True})

    def delete(self, request, object_api_name):
        return Response(status=204)


urlpatterns = [
    path("api/v1/test-records/<str:object_api_name>/", RecordsApi.as_view()),
    *tenant_urlpatterns,
]
