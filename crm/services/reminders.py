"""Task reminders: at a task's ``reminder_at`` its assignee (else whoever created it) gets
an e-mail in their language with the task, its due time in the group's time zone and a
link to the record.

Each reminder is claimed by a conditional update (``reminder_sent_at`` still empty) in
the transaction that sends it: two sweeps side by side send it once, and a send that
fails rolls the claim back, so the next sweep tries again. A sweep killed after the mail
left but before its commit sends it again on the next run (at least once, never lost)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.models import Activity

RECORD_PATHS = {
    "guest": "/guests/{id}/",
    "reservation": "/reservations/{id}/",
    "case": "/service/cases/{id}/",
}


def record_path(object_api_name: str, record_id: str) -> str:
    template = RECORD_PATHS.get(object_api_name, "/records/" + object_api_name + "/{id}/")
    return template.format(id=record_id)


def _language(user) -> str:
    from tenants.context import current_tenant

    tenant = current_tenant()
    offered = set(getattr(tenant, "enabled_languages", None) or ())
    default = getattr(tenant, "default_language", None) or settings.LANGUAGE_CODE
    wanted = getattr(user, "language", "") or ""
    return wanted if wanted in offered else default


def _send(task: Activity) -> bool:
    from metadata.workflows.messaging import tenant_base_url
    from tenants.context import current_zone

    person = task.assignee or task.created_by
    if person is None or not person.is_active or not person.email:
        return False
    with translation.override(_language(person)):
        lines = [task.subject or _("A task")]
        if task.due_at:
            due = timezone.localtime(task.due_at, current_zone()).strftime("%Y-%m-%d %H:%M")
            lines.append(_("Due: %(when)s") % {"when": due})
        if task.body:
            lines += ["", task.body]
        lines += ["", tenant_base_url() + record_path(task.object_api_name, task.record_id)]
        message = EmailMessage(
            subject=_("Reminder: %(title)s") % {"title": task.subject or _("A task")},
            body="\n".join(lines),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[person.email],
        )
    message.send(fail_silently=False)
    return True


def task_reminders_send(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send the reminders that are due; returns how many went out."""
    now = now or timezone.now()
    due = list(
        Activity.objects.filter(
            kind=Activity.Kind.TASK,
            completed_at__isnull=True,
            reminder_at__isnull=False,
            reminder_at__lte=now,
            reminder_sent_at__isnull=True,
        )
        .order_by("reminder_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    sent = 0
    for task_id in due:
        try:
            with transaction.atomic():
                claimed = Activity.objects.filter(pk=task_id, reminder_sent_at__isnull=True).update(
                    reminder_sent_at=now
                )
                if not claimed:
                    continue
                task = Activity.objects.select_related("assignee", "created_by").get(pk=task_id)
                sent += _send(task)
        except OSError:
            # The mail server is away: the claim rolled back; the next sweep tries again.
            continue
    return sent
