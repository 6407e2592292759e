"""Thin API views of the platform layer: parse input, call one service or selector."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from saas.api.openapi import json_body
from saas.api.serializers import StrictSerializer
from tenants.access.principal import Principal
from tenants.context import current_schema
from tenants.errors import NotFound
from tenants.jobs.models import Job
from tenants.jobs.registry import job_kinds
from tenants.jobs.selectors import job_get, jobs_for
from tenants.jobs.services import job_start


class JobOutput(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "payload",
            "result",
            "error",
            "progress",
            "created",
            "started",
            "finished",
        ]


ME = {
    "type": "object",
    "required": ["email", "is_admin", "tenant"],
    "properties": {
        "email": {"type": "string"},
        "full_name": {"type": "string"},
        "is_admin": {"type": "boolean"},
        "tenant": {
            "type": "object",
            "properties": {
                "slug": {"type": "string"},
                "name": {"type": "string"},
                "schema": {"type": "string"},
            },
        },
    },
}


class MeApi(APIView):
    @extend_schema(responses={200: ME})
    def get(self, request):
        user = request.user
        return Response(
            {
                "email": user.email,
                "full_name": user.full_name,
                "is_admin": Principal.from_request(request).is_admin,
                "tenant": {
                    "slug": request.tenant.slug,
                    "name": request.tenant.name,
                    "schema": current_schema(),
                },
            }
        )


class JobListCreateApi(APIView):
    """Jobs the caller may see (their own; administrators all). Only administrators
    start jobs here, and only kinds that take nothing dangerous from the caller: an
    import is started through its own endpoints, never with a path or a user id."""

    class Input(StrictSerializer):
        kind = serializers.CharField(max_length=60)
        payload = serializers.DictField(required=False, default=dict)

    @extend_schema(
        responses={200: inline_serializer(name="JobPage", fields={"results": JobOutput(many=True)})}
    )
    def get(self, request):
        jobs = jobs_for(actor=Principal.from_request(request))[:50]
        return Response({"results": JobOutput(jobs, many=True).data})

    @extend_schema(
        request=json_body(
            {
                "type": "object",
                "required": ["kind"],
                "properties": {
                    "kind": {"type": "string", "enum": job_kinds(startable=True)},
                    "payload": {"type": "object"},
                },
            }
        ),
        responses={201: JobOutput},
    )
    def post(self, request):
        if isinstance(request.data, dict):
            unknown = sorted(set(request.data) - {"kind", "payload"})
            if unknown:
                raise ValidationError({k: f"{k} is not a setting of a job." for k in unknown})
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_start(actor=Principal.from_request(request), **data.validated_data)
        return Response(JobOutput(job).data, status=201)


class JobDetailApi(APIView):
    @extend_schema(responses={200: JobOutput})
    def get(self, request, job_id):
        job = job_get(actor=Principal.from_request(request), job_id=job_id)
        if job is None:
            raise NotFound(f"No job {job_id}.", field="id")
        return Response(JobOutput(job).data)
