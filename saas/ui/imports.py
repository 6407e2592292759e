"""The import wizard: upload a CSV/XLSX file, read the dry-run report of every row,
then import the valid rows in the background and follow the job."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.services.imports import IMPORT_OBJECTS, import_upload_check, import_upload_start
from saas.ui.errors import errors_by_field
from tenants.access import policy
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


def _require(user, object_api_name: str) -> None:
    policy.object_require(user, object_api_name, "create")
    policy.object_require(user, object_api_name, "edit")


@login_required
def import_wizard(request):
    errors: list[str] = []
    report = request.session.get(SESSION_KEY) if request.GET.get("step") == "report" else None
    if request.method == "POST" and request.POST.get("action") == "start":
        pending = request.session.get(SESSION_KEY)
        if not pending:
            errors.append(_("Upload the file again: the checked file is no longer known."))
        else:
            _require(request.user, pending["object"])
            try:
                job = import_upload_start(
                    object_api_name=pending["object"],
                    upload=pending["upload"],
                    file_name=pending["file_name"],
                    user=request.user,
                )
            except (ValidationError, ApplicationError) as exc:
                errors = [m for ms in errors_by_field(exc).values() for m in ms]
            else:
                request.session.pop(SESSION_KEY, None)
                return redirect("import_job", job_id=job.pk)
    elif request.method == "POST":
        object_api_name = request.POST.get("object", "")
        if object_api_name in IMPORT_OBJECTS:
            _require(request.user, object_api_name)
        upload = request.FILES.get("file")
        try:
            if upload is None:
                raise ValidationError({"file": _("Choose a .csv or .xlsx file.")})
            if upload.size > MAX_UPLOAD:
                raise ValidationError({"file": _("The file is larger than 50 MB.")})
            checked = import_upload_check(
                object_api_name=object_api_name,
                file_name=upload.name,
                content=upload.read(),
                user=request.user,
            )
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
    job = job_get(job_id=job_id)
    if job is None or job.kind != "crm.import":
        raise Http404(_("There is no such import."))
    if job.created_by_id != request.user.pk and not policy.is_tenant_admin(request.user):
        raise Http404(_("There is no such import."))
    return render(request, "crm/import_job.html", {"job": job})
