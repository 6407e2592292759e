"""Words of the module shown to people, translated at read time (stored rows keep keys
and numbers, so a reader sees them in their own language)."""

from __future__ import annotations

from django.utils.translation import gettext

from crm.analytics.models import Lifecycle, Segment


def reason_text(feature: str, value: float) -> str:
    n = round(value)
    if feature == "recency_days":
        return gettext("Days since the last stay: %(n)d") % {"n": n}
    if feature == "stays":
        return gettext("Stays so far: %(n)d") % {"n": n}
    if feature == "avg_nights":
        return gettext("Nights per stay on average: %(v).1f") % {"v": value}
    if feature == "log_value":
        return gettext("Low spend so far")
    if feature == "tenure_days":
        return gettext("Days since the first stay: %(n)d") % {"n": n}
    if feature == "cancellations":
        return gettext("Cancellations: %(n)d") % {"n": n}
    if feature == "vip":
        return gettext("VIP level")
    return feature


def segment_label(key: str) -> str:
    return str(Segment(key).label) if key in Segment.values else ""


def lifecycle_label(key: str) -> str:
    return str(Lifecycle(key).label) if key in Lifecycle.values else ""
