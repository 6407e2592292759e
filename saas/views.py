"""Thin UI views of the platform layer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tenants.jobs.services import job_enqueue
from tenants.users.services import user_password_changed


def public_home(request):
    return render(request, "public_home.html")


@login_required
@require_POST
def job_diagnostic_start(request):
    job_enqueue(kind="diagnostic", payload={"echo": "ui"}, created_by=request.user)
    messages.success(request, _("Diagnostic job queued."))
    return redirect("home")


class PasswordChange(auth_views.PasswordChangeView):
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        user_password_changed(user=self.request.user)
        messages.success(self.request, _("Your password was changed."))
        return response
