"""E-mail templates: create and change their languages, preview one language with a
sample guest, send a test. Merge fields come from the workflows' guest context (the
same allowlist), masked with the field rights of whoever reads the result: a preview
shows a marketer only what they may read, a campaign only what its author may read."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from crm.marketing import rendering
from crm.marketing.models import EmailTemplate, Offer, TemplateContent
from crm.models import Guest, RecordChange
from crm.services.audit import changes_record
from tenants.access.principal import Principal
from tenants.errors import Conflict

MAX_TEST_RECIPIENTS = 5


def _contents_save(template: EmailTemplate, contents: dict[str, dict[str, str]]) -> None:
    for language, content in contents.items():
        TemplateContent.objects.update_or_create(
            template=template, language=language, defaults=content
        )


@transaction.atomic
def template_create(*, actor: Principal, key: str, name: str, contents: Any) -> EmailTemplate:
    actor.require("marketing_template", "create")
    cleaned = rendering.contents_clean(contents)
    template = EmailTemplate(key=key, name=name)
    template.full_clean(validate_unique=False)
    if EmailTemplate.objects.filter(key=key).exists():
        raise Conflict(f"A template {key} exists already.", code="taken", field="key")
    template.save()
    _contents_save(template, cleaned)
    changes_record(
        object_api_name="marketing_template",
        record_id=template.pk,
        old={},
        new={"key": key, "name": name, "contents": cleaned},
        user_id=actor.user_id,
        action=RecordChange.Action.CREATE,
    )
    return template


@transaction.atomic
def template_update(
    *,
    template: EmailTemplate,
    actor: Principal,
    name: str | None = None,
    contents: Any = None,
    remove_languages: list[str] | None = None,
) -> EmailTemplate:
    """Change the name, set the given languages' texts, remove languages."""
    actor.require("marketing_template", "edit")
    template = EmailTemplate.objects.select_for_update().get(pk=template.pk)
    old = template_contents(template)
    if name is not None:
        template.name = name
        template.full_clean(validate_unique=False)
        template.save(update_fields=["name", "updated_at"])
    if contents:
        _contents_save(template, rendering.contents_clean(contents))
    if remove_languages:
        TemplateContent.objects.filter(template=template, language__in=remove_languages).delete()
    if not TemplateContent.objects.filter(template=template).exists():
        raise ValidationError({"contents": "A template keeps at least one language."})
    changes_record(
        object_api_name="marketing_template",
        record_id=template.pk,
        old={"contents": old},
        new={"contents": template_contents(template)},
        user_id=actor.user_id,
    )
    return template


def template_contents(template: EmailTemplate) -> dict[str, dict[str, str]]:
    return {
        c.language: {"subject": c.subject, "preheader": c.preheader, "body": c.body}
        for c in TemplateContent.objects.filter(template=template).order_by("language")
    }


def recipient_language(guest_language: str, available: list[str] | dict) -> str:
    """The guest's language, else the hotel group's default, else English, else any
    language the message has."""
    from tenants.context import current_tenant

    default = getattr(current_tenant(), "default_language", "") or "en"
    for wanted in (guest_language, default, "en"):
        if not wanted:
            continue
        if wanted in available:
            return wanted
        base = wanted.split("-")[0]
        if base in available:
            return base
    return sorted(available)[0]


def message_context(
    *, guest: Guest | None, language: str, reader: Principal | None, offer: Offer | None = None
) -> dict[str, Any]:
    """The merge fields for a guest, as the workflows build them, masked with ``reader``'s
    field rights (None: the sensitive fields removed, as for a workflow without an
    author)."""
    from metadata.workflows import registry
    from metadata.workflows.masking import context_masked

    context: dict[str, Any] = {}
    provider = registry.context_provider("guest")
    if guest is not None and provider is not None:
        context = context_masked(
            provider(record=guest, language=language), owner=reader, object_api_name="guest"
        )
        context.pop("record", None)
    context["today"] = timezone.localdate()
    if offer is not None:
        context["offer"] = {"name": offer.name, "description": offer.description}
    return context


def template_preview(
    *, template: EmailTemplate, language: str, guest: Guest | None, actor: Principal
) -> rendering.Rendered:
    actor.require("marketing_template", "view")
    contents = template_contents(template)
    if language not in contents:
        raise ValidationError({"language": f"The template has no {language} text."})
    return rendering.render(
        contents[language],
        message_context(guest=guest, language=language, reader=actor),
        language=language,
        unsubscribe_url="https://example.invalid/unsubscribe",
    )


def template_test_send(
    *,
    template: EmailTemplate,
    language: str,
    to: list[str],
    guest: Guest | None,
    actor: Principal,
) -> int:
    """Send the preview to staff addresses, marked as a test; no tracking, no consent
    (the addresses are the team's own)."""
    actor.require("marketing_template", "edit")
    if not to or len(to) > MAX_TEST_RECIPIENTS:
        raise ValidationError({"to": f"Give 1 to {MAX_TEST_RECIPIENTS} addresses."})
    for address in to:
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError({"to": f"{address!r} is not an e-mail address."}) from None
    rendered = template_preview(template=template, language=language, guest=guest, actor=actor)
    message = EmailMultiAlternatives(
        subject=f"[TEST] {rendered.subject}",
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"Content-Language": language},
    )
    message.attach_alternative(rendered.html, "text/html")
    return message.send(fail_silently=False)
