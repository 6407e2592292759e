"""What the service desk brings to workflows: the ``send_survey`` action, for workflows
on reservations (the post-stay survey a day after checkout): it makes the guest's
invitation for the stay and e-mails the one-click link in the guest's language, through
the message outbox, with the unsubscribe link every workflow message carries and the
consent rules of service messages. A run repeated for the same stay links to the same
invitation (one per survey, guest and stay), so answers never split."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from metadata.workflows.registry import ActionType, Outcome, RunContext

ACTION = "send_survey"


def _fail(key: str, message: str) -> ValidationError:
    return ValidationError({key: ValidationError(message, code="invalid")})


def _validate(config: dict, object_api_name: str) -> dict:
    from crm.service.models import Survey

    unknown = sorted(set(config) - {"survey", "channel"})
    if unknown:
        raise _fail(unknown[0], f"{unknown[0]} is not a setting of send_survey.")
    if object_api_name != "reservation":
        raise _fail("survey", "Surveys are sent about a stay: use a workflow on reservations.")
    key = config.get("survey")
    if not isinstance(key, str) or not Survey.objects.filter(key=key, active=True).exists():
        raise _fail("survey", "Name an active survey by its key.")
    return {"survey": key, "channel": "email"}


def _run(ctx: RunContext, config: dict) -> Outcome:
    from crm.service.models import Survey
    from crm.service.services.survey_mail import survey_email, unsubscribe_link
    from crm.service.services.surveys import invitation_create, link_path
    from metadata.workflows import registry
    from metadata.workflows.messaging import outbox_enqueue, tenant_base_url

    survey = Survey.objects.filter(key=config["survey"], active=True).first()
    if survey is None:
        return Outcome(detail={"reason": "the survey is gone or switched off"}, status="skipped")
    resolver = registry.recipient_resolver("reservation")
    recipient = (
        resolver(record=ctx.record, channel="email", path="") if resolver and ctx.record else None
    )
    if recipient is None or not recipient.address:
        return Outcome(detail={"reason": "no email address for this stay"}, status="skipped")
    checker = registry.consent_checker(recipient.subject_type)
    if checker is None or not checker(recipient=recipient, channel="email", purpose="service"):
        return Outcome(
            detail={"reason": "consent", "recipient": recipient.address}, status="skipped"
        )
    reservation = ctx.record
    language = recipient.language or "en"
    unsubscribe = unsubscribe_link(recipient.subject_id)
    if ctx.dry_run:
        link = tenant_base_url() + "/survey/<link>/"
    else:
        invitation = invitation_create(
            survey=survey,
            guest=reservation.guest,  # type: ignore[union-attr]
            reservation=reservation,  # type: ignore[arg-type]
            channel="email",
            actor=ctx.actor,
        )
        link = tenant_base_url() + link_path(invitation)
    subject, body = survey_email(
        survey=survey, link=link, language=language, unsubscribe=unsubscribe
    )
    detail = {
        "channel": "email",
        "recipient": recipient.address,
        "language": language,
        "subject": subject,
        "body": body,
        "survey": survey.key,
    }
    if ctx.dry_run:
        return Outcome(detail=detail)
    message = outbox_enqueue(
        channel="email",
        run_id=ctx.run_id,
        object_api_name="reservation",
        record_id=ctx.record_id,
        recipient=recipient.address,
        language=language,
        subject=subject,
        body=body,
        headers={"List-Unsubscribe": f"<{unsubscribe}>"},
    )
    return Outcome(detail={**detail, "outbox_id": message.pk})


def register() -> None:
    from metadata.workflows.registry import action_register

    action_register(
        ActionType(
            key=ACTION,
            label="Send a survey",
            validate=_validate,
            run=_run,
            objects=("reservation",),
        )
    )
