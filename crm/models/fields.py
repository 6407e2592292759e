"""Model fields whose values are encrypted at rest.

The key is derived from ``settings.ATRIUM_FIELD_KEY`` (falling back to SECRET_KEY) so
that a database dump alone never reveals identity document numbers. Fernet gives
authenticated encryption (AES-128-CBC + HMAC-SHA256) with a random IV per value."""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models

TOKEN_PREFIX = "fernet:"  # noqa: S105 - a format marker, not a secret


@lru_cache(maxsize=4)
def _fernet(secret: str) -> Fernet:
    if not secret:
        raise ImproperlyConfigured("Set ATRIUM_FIELD_KEY (or SECRET_KEY) to encrypt fields.")
    # A distinct derivation context, so the field key is never the Django signing key.
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), b"atrium-field-encryption", 100_000)
    return Fernet(base64.urlsafe_b64encode(digest))


def field_cipher() -> Fernet:
    return _fernet(getattr(settings, "ATRIUM_FIELD_KEY", "") or settings.SECRET_KEY)


def encrypt_text(value: str) -> str:
    return TOKEN_PREFIX + field_cipher().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    if not token.startswith(TOKEN_PREFIX):
        raise ValueError("value is not an Atrium encrypted token")
    try:
        return field_cipher().decrypt(token[len(TOKEN_PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("encrypted value cannot be read with the configured key") from exc


class EncryptedTextField(models.TextField):
    """Stores ``fernet:<token>``; Python code only ever sees the clear text. Values are
    not searchable in SQL, by design."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value):
        value = models.Field.get_prep_value(self, value)
        if value is None or value == "":
            return value
        value = str(value)
        if value.startswith(TOKEN_PREFIX):  # already encrypted (bulk paths)
            return value
        return encrypt_text(value)


class EncryptedDateField(EncryptedTextField):
    """A date kept encrypted; the Python value is a ``datetime.date``."""

    def from_db_value(self, value, expression, connection):
        text = super().from_db_value(value, expression, connection)
        return date.fromisoformat(text) if text else None

    def to_python(self, value):
        if value is None or value == "" or isinstance(value, date):
            return value or None
        if str(value).startswith(TOKEN_PREFIX):  # an encrypted snapshot being restored
            return str(value)
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError(f"{value!r} is not a date as YYYY-MM-DD.") from None

    def get_prep_value(self, value):
        if isinstance(value, date):
            value = value.isoformat()
        return super().get_prep_value(value or None)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return value.isoformat() if isinstance(value, date) else ""
