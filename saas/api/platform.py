"""Thin API views of the platform layer: parse input, call one service or selector."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.context import current_schema
from tenants.errors import NotFound
from tenants.jobs.models import Job
from tenants.jobs.services import job_enqueue


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


class MeApi(APIView):
    def get(self, request):
        user = request.user
        return Response(
            {
                "email": user.email,
                "full_name": user.full_name,
                "is_admin": user.is_staff,
                "tenant": {
                    "slug": request.tenant.slug,
                    "name": request.tenant.name,
                    "schema": current_schema(),
                },
            }
        )


class JobListCreateApi(APIView):
    class Input(serializers.Serializer):
        kind = serializers.CharField(max_length=60)
        payload = serializers.DictField(required=False, default=dict)

    def get(self, request):
        jobs = Job.objects.all()[:50]
        return Response({"results": JobOutput(jobs, many=True).data})

    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_enqueue(created_by=request.user, **data.validated_data)
        return Response(JobOutput(job).data, status=201)


class JobDetailApi(APIView):
    def get(self, request, job_id):
        job = Job.objects.filter(pk=job_id).first()
        if job is None:
            raise NotFound(f"No job {job_id}.", field="id")
        return Response(JobOutput(job).data)
