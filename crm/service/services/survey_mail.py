"""The survey e-mail, one text for the first invitation (the ``send_survey`` workflow
action) and the reminder: the survey's title, its intro and the one-click link in the
guest's language, and the unsubscribe link every message to a guest carries."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from crm.service.models import Survey


def unsubscribe_link(guest_id: int) -> str:
    from metadata.workflows.messaging import unsubscribe_token, unsubscribe_url

    return unsubscribe_url(
        unsubscribe_token(
            subject_type="guest", subject_id=guest_id, channel="email", purpose="service"
        )
    )


def survey_email(
    *, survey: Survey, link: str, language: str, unsubscribe: str, reminder: bool = False
) -> tuple[str, str]:
    """(subject, body) in ``language``."""
    with translation.override(language):
        subject = str(survey.title)
        if reminder:
            subject = _("Reminder: %(title)s") % {"title": subject}
        lines = [
            str(survey.intro or "").strip(),
            _("Tell us about your stay: %(link)s") % {"link": link},
            _("To stop receiving these messages: %(url)s") % {"url": unsubscribe},
        ]
    return subject[:300], "\n\n".join(line for line in lines if line)
