"""The import wizard: upload a CSV/XLSX file, map its columns to fields (proposed from
the column names), read the dry-run report of every row, then import the valid rows in
the background and follow the job."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.services.import_mapping import import_upload_columns
from crm.services.imports import (
    IMPORT_OBJECTS,
    import_rights_require,
    import_upload_start,
)
from saas.ui.errors import errors_by_field
from tenants.access.errors import AccessDenied
from tenants.access.principal import Principal
from tenants.errors import ApplicationError
from tenants.jobs.selectors import job_get

SESSION_KEY = "import_wizard"
MAX_UPLOAD = 50 * 1024 * 1024
MAX_ERRORS_SHOWN = 200
OBJECT_LABELS = {
    "guest": gettext_lazy("Guests"),
    "company": gettext_lazy("Companies"),
    "reservation": gettext_lazy("Reservations"),
}


MAP_KEY = "import_wizard_map"


def _target_labels(object_api_name: str, targets: list[str]) -> list[tuple[str, str]]:
    """Each target with a label for people: the form's label, a custom field's label in
    the reader's language, else the field's name."""
    from metadata.models import FieldDefinition
    from saas.ui.records import GUEST_FIELDS

    labels = {f.name: str(f.label) for f in GUEST_FIELDS} if object_api_name == "guest" else {}
    custom = {
        f"custom.{f.api_name}": str(f.label)
        for f in FieldDefinition.objects.filter(object__api_name=object_api_name)
    }
    out = []
    for target in targets:
        label = custom.get(target) or labels.get(target) or target.replace("_", " ").capitalize()
        out.append((target, f"{label} ({target})"))
    return out


def _report(checked: dict, pending: dict) -> dict:
    return {
        **checked,
        # The first rows' errors are enough to fix a file; the count says the rest.
        "errors": checked["errors"][:MAX_ERRORS_SHOWN],
        "errors_total": len(checked["errors"]),
        "object": pending["object"],
        "file_name": pending["file_name"],
    }


def _map_step(
    request, pending: dict, mapping: dict[str, str] | None = None
) -> tuple[dict | None, list[str]]:
    """The mapping (the person's, from the form, unless given): a report to show next,
    or the errors to show on the form."""
    from crm.services.import_mapping import import_upload_map

    if mapping is None:
        mapping = {
            column: request.POST.get(f"map-{index}", "")
            for index, column in enumerate(pending["header"])
        }
    pending["guess"] = mapping  # shown again as chosen if something is wrong
    request.session[MAP_KEY] = pending
    try:
        checked = import_upload_map(
            upload_id=pending["upload"], mapping=mapping, actor=Principal.from_request(request)
        )
    except AccessDenied:
        raise
    except (ValidationError, ApplicationError) as exc:
        return None, [m for ms in errors_by_field(exc).values() for m in ms]
    return checked, []


@login_required
def import_wizard(request):
    errors: list[str] = []
    step = request.GET.get("step")
    report = request.session.get(SESSION_KEY) if step == "report" else None
    mapping = request.session.get(MAP_KEY) if step == "map" else None
    if request.method == "POST" and request.POST.get("action") == "map":
        pending = request.session.get(MAP_KEY)
        if not pending:
            errors.append(_("Upload the file again: the checked file is no longer known."))
        else:
            checked, errors = _map_step(request, pending)
            if checked is not None:
                request.session.pop(MAP_KEY, None)
                request.session[SESSION_KEY] = _report(checked, pending)
                return redirect(f"{request.path}?step=report")
            mapping = pending
    elif request.method == "POST" and request.POST.get("action") == "start":
        pending = request.session.get(SESSION_KEY)
        if not pending:
            errors.append(_("Upload the file again: the checked file is no longer known."))
        else:
            try:
                job = import_upload_start(
                    upload=pending["upload"], actor=Principal.from_request(request)
                )
            except AccessDenied:
                raise
            except (ValidationError, ApplicationError) as exc:
                errors = [m for ms in errors_by_field(exc).values() for m in ms]
            else:
                request.session.pop(SESSION_KEY, None)
                return redirect("import_job", job_id=job.pk)
    elif request.method == "POST":
        object_api_name = request.POST.get("object", "")
        upload = request.FILES.get("file")
        if object_api_name in IMPORT_OBJECTS:
            # Rights first: a refused user learns nothing about their file.
            import_rights_require(Principal.from_request(request), object_api_name)
        try:
            if upload is None:
                raise ValidationError({"file": _("Choose a .csv or .xlsx file.")})
            if upload.size > MAX_UPLOAD:
                raise ValidationError({"file": _("The file is larger than 50 MB.")})
            columns = import_upload_columns(
                object_api_name=object_api_name,
                file_name=upload.name,
                content=upload.read(),
                actor=Principal.from_request(request),
            )
        except AccessDenied:
            raise  # the 403 page, like every refused screen
        except (ValidationError, ApplicationError) as exc:
            errors = [m for ms in errors_by_field(exc).values() for m in ms]
        else:
            pending = {**columns, "object": object_api_name, "file_name": upload.name}
            exact = all(
                columns["guess"].get(h) == h for h in columns["header"] if h
            )  # every column already names its field: straight to the dry run
            if not exact:
                request.session[MAP_KEY] = pending
                return redirect(f"{request.path}?step=map")
            checked, errors = _map_step(request, pending, columns["guess"])
            if checked is not None:
                request.session.pop(MAP_KEY, None)
                request.session[SESSION_KEY] = _report(checked, pending)
                return redirect(f"{request.path}?step=report")
    rows = []
    if mapping:
        targets = _target_labels(mapping["object"], mapping["targets"])
        rows = [
            {"index": i, "column": column, "chosen": mapping["guess"].get(column, "")}
            for i, column in enumerate(mapping["header"])
        ]
        mapping = {**mapping, "choices": targets}
    return render(
        request,
        "crm/import_wizard.html",
        {
            "objects": [(key, OBJECT_LABELS[key]) for key in IMPORT_OBJECTS],
            "report": report,
            "mapping": mapping,
            "rows": rows,
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
def import_job(request, job_id):
    job = job_get(actor=Principal.from_request(request), job_id=job_id)
    if job is None or job.kind != "crm.import":
        raise Http404(_("There is no such import."))
    return render(request, "crm/import_job.html", {"job": job})
