"""Consent enforcement. The access layer cannot know crm's consent model, so crm
registers a checker here (in ``AppConfig.ready()``) and every marketing sender calls
``consent_require(...)`` right before sending::

    # crm/apps.py
    from tenants.access.consent import consent_checker_register
    consent_checker_register("guest", guest_consent_given)

    def guest_consent_given(*, subject_id, channel, purpose) -> bool: ...

    # any campaign / workflow action, before each message
    consent_require(subject_type="guest", subject_id=guest.pk, channel="email")

With no checker registered for a subject type the answer is "no": a message is never
sent because nobody could say whether it was allowed.
"""

from __future__ import annotations

from collections.abc import Callable

from tenants.access.errors import ConsentMissing

ConsentChecker = Callable[..., bool]

_checkers: dict[str, ConsentChecker] = {}


def consent_checker_register(subject_type: str, checker: ConsentChecker) -> None:
    """``checker(*, subject_id, channel, purpose) -> bool``: True only when the subject
    opted in to ``purpose`` messages on ``channel`` (and has not withdrawn)."""
    _checkers[subject_type] = checker


def consent_checker_unregister(subject_type: str) -> None:
    _checkers.pop(subject_type, None)


def consent_checker(subject_type: str) -> ConsentChecker | None:
    """The checker registered for ``subject_type`` (to put it back after replacing it)."""
    return _checkers.get(subject_type)


def marketing_allowed(
    *, subject_type: str = "guest", subject_id, channel: str, purpose: str = "marketing"
) -> bool:
    checker = _checkers.get(subject_type)
    if checker is None:
        return False
    return bool(checker(subject_id=subject_id, channel=channel, purpose=purpose))


def consent_require(
    *, subject_type: str = "guest", subject_id, channel: str, purpose: str = "marketing"
) -> None:
    """Raise ConsentMissing (403, code ``consent_missing``) unless opted in."""
    if subject_type not in _checkers:
        raise ConsentMissing(
            f"No consent checker is registered for {subject_type}; "
            f"{purpose} messages to it cannot be sent.",
            field="subject_type",
        )
    if not marketing_allowed(
        subject_type=subject_type, subject_id=subject_id, channel=channel, purpose=purpose
    ):
        raise ConsentMissing(
            f"{subject_type} {subject_id} has not opted in to {purpose} messages by {channel}.",
            field="channel",
        )
