from django.apps import AppConfig


class MetadataConfig(AppConfig):
    name = "metadata"
    verbose_name = "Metadata engine"

    def ready(self) -> None:
        from metadata.services.indexes import JOB_KIND, index_build, index_build_abandoned
        from metadata.workflows.engine import runs_sweep
        from tenants.jobs.registry import register_job_kind, register_sweeper

        register_job_kind(JOB_KIND, index_build, abandoned=index_build_abandoned)
        # Runs left "running" by a dead worker are swept with the tenant's jobs.
        register_sweeper("workflow_runs", runs_sweep)

        from django.db.models.signals import post_migrate

        post_migrate.connect(_builtin_rows, sender=self)

        # Workflows listen to every record write and bring their own actions.
        from metadata.events import record_event_subscribe
        from metadata.workflows.actions import register_builtin_actions
        from metadata.workflows.engine import record_event_handle

        register_builtin_actions()
        record_event_subscribe(record_event_handle)

        # Every principal's object check also asks: does the object exist here, and is
        # its module switched on for this tenant?
        from tenants.access.principal import module_gate_register

        module_gate_register(_object_gate)

        # Definitions' version row is read with the rights' in one query per request.
        from metadata.definitions import VERSION_SQL
        from tenants.access.versioning import version_source_register

        version_source_register("metadata", VERSION_SQL)


def _object_gate(object_api_name: str) -> None:
    """404 for an archived record type, 403 ``module_disabled`` when its module is off.
    Names metadata does not define (roles, the audit log) pass: they are access's own."""
    from django.db import connection

    if getattr(connection, "schema_name", "public") == "public":
        return
    from metadata.definitions import snapshot
    from metadata.services.modules import module_require

    snap = snapshot().get(object_api_name)
    if snap is None:
        return
    if snap.definition.archived_at is not None:
        from tenants.errors import NotFound

        raise NotFound(f"There is no object named {object_api_name!r}.", field="object")
    module_require(snap.definition.module)


def _builtin_rows(sender, using="default", **kwargs) -> None:
    """After migrating a tenant schema (the template included, so every clone inherits
    them), make sure the rows of built-in objects exist."""
    from django.db import connections

    from metadata.definitions import builtin_rows_ensure

    connection = connections[using]
    if getattr(connection, "schema_name", "public") == "public":
        return
    builtin_rows_ensure()
