"""The import wizard: upload a CSV/XLSX file, read the dry-run report of every row,
then import the valid rows in the background and follow the job."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.services.imports import (
    IMPORT_OBJECTS,
    import_rights_require,
    import_upload_check,
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


@login_required
def import_wizard(request):
    errors: list[str] = []
    report = request.session.get(SESSION_KEY) if request.GET.get("step") == "report" else None
    if request.method == "POST" and request.POST.get("action") == "start":
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
            checked = import_upload_check(
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
            request.session[SESSION_KEY] = {
                **checked,
                # The first rows' errors are enough to fix a file; the count says the rest.
                "errors": checked["errors"][:MAX_ERRORS_SHOWN],
                "errors_total": len(checked["errors"]),
                "object": object_api_name,
                "file_name": upload.name,
            }
            return redirect(f"{request.path}?step=report")
    return render(
        request,
        "crm/import_wizard.html",
        {
            "objects": [(key, OBJECT_LABELS[key]) for key in IMPORT_OBJECTS],
            "report": report,
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
