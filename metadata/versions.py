"""A record's version: what an ETag carries and If-Match compares.

It is a keyed digest of every stored column of the row (custom values included), so any
change through any door -- API, screen, import, workflow -- gives a new version without a
counter every writer must remember to bump. Keyed with the site's secret: the digest of a
row holding fields the reader may not see tells nothing about their values."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.db import models


def record_version(obj: models.Model) -> str:
    values = [getattr(obj, f.attname) for f in obj._meta.concrete_fields]
    raw = json.dumps(values, default=str, ensure_ascii=False, separators=(",", ":"))
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, raw.encode(), hashlib.sha256).hexdigest()[:32]


def etag(obj: models.Model) -> str:
    return f'"{record_version(obj)}"'


def etag_matches(header: str, obj: models.Model) -> bool:
    """Whether an If-Match header names the record's current version (``*`` matches any
    existing record; a weak tag is compared by its value)."""
    current = record_version(obj)
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return True
        if tag.removeprefix("W/").strip('"') == current:
            return True
    return False
