from django.apps import AppConfig


class MetadataConfig(AppConfig):
    name = "metadata"
    verbose_name = "Metadata engine"

    def ready(self) -> None:
        from metadata.services.indexes import JOB_KIND, index_build
        from tenants.jobs.registry import register_job_kind

        register_job_kind(JOB_KIND, index_build)
