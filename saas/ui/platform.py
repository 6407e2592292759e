"""Thin UI views of the platform layer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Guest
from tenants.access.principal import Principal
from tenants.jobs.services import job_start
from tenants.users.services import user_password_changed


def public_home(request):
    return render(request, "public_home.html")


@login_required
@require_POST
def job_diagnostic_start(request):
    job_start(actor=Principal.from_request(request), kind="diagnostic", payload={"echo": "ui"})
    messages.success(request, _("Diagnostic job queued."))
    return redirect("home")


class PasswordChange(auth_views.PasswordChangeView):
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user_password_changed(user=self.request.user)
        messages.success(self.request, _("Your password was changed."))
        return response


def unsubscribe(request, token: str):
    """The link at the foot of every workflow message. GET asks to confirm (mail
    scanners follow links; they do not submit forms); POST records the opt-out for that
    channel and purpose, which every later send checks."""
    from crm.services.guests import guest_consent_record
    from metadata.workflows.messaging import unsubscribe_token_read

    data = unsubscribe_token_read(token)
    if data is None or data["subject_type"] != "guest":
        return render(request, "unsubscribe.html", {"invalid": True}, status=404)
    guest = Guest.objects.filter(pk=data["subject_id"], erased_at=None).first()
    if guest is None:
        return render(request, "unsubscribe.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        guest_consent_record(
            guest=guest, channel=data["channel"], purpose=data["purpose"], opted_in=False,
            source="unsubscribe link",
            # The signed link is the guest's own word; no staff member acts here.
            actor=Principal.system("unsubscribe link"),
        )  # fmt: skip
        done = True
    return render(request, "unsubscribe.html", {"done": done, **data})
