"""Thin UI views of the platform layer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Guest, Property, Reservation
from tenants.jobs.models import Job
from tenants.jobs.services import job_enqueue
from tenants.users.services import user_password_changed


def public_home(request):
    return render(request, "public_home.html")


@login_required
def home(request):
    if request.user.must_change_password:
        return redirect("password_change")
    today = timezone.localdate()
    context = {
        "properties": Property.objects.all(),
        "guest_count": Guest.objects.count(),
        "arrivals_today": Reservation.objects.filter(arrival=today)
        .exclude(status=Reservation.Status.CANCELLED)
        .count(),
        "in_house": Reservation.objects.filter(status=Reservation.Status.IN_HOUSE).count(),
        "jobs": Job.objects.all()[:5],
    }
    return render(request, "home.html", context)


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
