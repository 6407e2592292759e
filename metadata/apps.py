from django.apps import AppConfig


class MetadataConfig(AppConfig):
    name = "metadata"
    verbose_name = "Metadata engine"

    def ready(self) -> None:
        from metadata.services.indexes import JOB_KIND, index_build
        from tenants.jobs.registry import register_job_kind

        register_job_kind(JOB_KIND, index_build)

        from django.db.models.signals import post_migrate

        post_migrate.connect(_builtin_rows, sender=self)

        # Workflows listen to every record write and bring their own actions.
        from metadata.events import record_event_subscribe
        from metadata.workflows.actions import register_builtin_actions
        from metadata.workflows.engine import record_event_handle

        register_builtin_actions()
        record_event_subscribe(record_event_handle)


def _builtin_rows(sender, using="default", **kwargs) -> None:
    """After migrating a tenant schema (the template included, so every clone inherits
    them), make sure the rows of built-in objects exist."""
    from django.db import connections

    from metadata.definitions import builtin_rows_ensure

    connection = connections[using]
    if getattr(connection, "schema_name", "public") == "public":
        return
    builtin_rows_ensure()
