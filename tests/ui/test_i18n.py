"""The catalogues (en, zh-Hans, zh-Hant) are complete and compiled, screens speak the
chosen language, and dates, numbers and money follow the locale and the currency."""

from __future__ import annotations

import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from saas.templatetags.atrium_ui import ldate, lnumber, money
from tests.conftest import tenant_client

LOCALE = Path(__file__).resolve().parents[2] / "locale"
PLACEHOLDER = re.compile(r"%\(\w+\)s|<[a-z]+ [^>]*>|</[a-z]+>")  # formats and HTML tags


def _entries(language: str) -> list[tuple[str, str]]:
    text = (LOCALE / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    out = []
    for block in text.split("\n\n"):
        match = re.search(r'^msgid ((?:".*"\n)+)msgstr ((?:".*"\n?)+)', block, re.M)
        if match:
            msgid = "".join(re.findall(r'"(.*)"', match.group(1)))
            msgstr = "".join(re.findall(r'"(.*)"', match.group(2)))
            if msgid:
                out.append((msgid, msgstr))
    return out


@pytest.fixture(scope="module")
def compiled():
    """The .mo files, as `make messages` builds them (they are not committed)."""
    if shutil.which("msgfmt") is None:
        pytest.skip("compiling catalogues needs gettext's msgfmt: apt-get install gettext")
    call_command(
        "compilemessages",
        verbosity=0,
        locale=["en", "zh_Hans", "zh_Hant"],
        ignore_patterns=[".venv", "staticfiles"],
    )
    translation.trans_real._translations = {}  # forget catalogues loaded before
    yield


@pytest.mark.parametrize("language", ["zh_Hans", "zh_Hant", "en"])
def test_catalogue_is_complete(language):
    entries = _entries(language)
    assert len(entries) > 250
    untranslated = [msgid for msgid, msgstr in entries if not msgstr]
    assert untranslated == []
    for msgid, msgstr in entries:
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def test_the_two_chinese_scripts_are_not_the_same_catalogue():
    hans, hant = dict(_entries("zh_Hans")), dict(_entries("zh_Hant"))
    assert hans.keys() == hant.keys()
    assert hans["Guests"] == "宾客" and hant["Guests"] == "賓客"
    differing = sum(1 for key in hans if hans[key] != hant[key])
    assert differing > len(hans) * 0.6


def test_compiled_catalogues_translate(compiled):
    for code, expected in (("en", "Guests"), ("zh-hans", "宾客"), ("zh-hant", "賓客")):
        with translation.override(code):
            assert translation.gettext("Guests") == expected


@pytest.mark.django_db
def test_screens_speak_the_chosen_language(compiled, tenant_a):
    client = tenant_client(tenant_a)
    client.post("/i18n/language/", {"language": "zh-hans", "next": "/"})
    page = client.get("/guests/").content.decode()
    assert "<h1>宾客</h1>" in page and "退出登录" in page and "搜索" in page
    assert "Guests" not in page.split("<main", 1)[1]


def test_dates_numbers_and_money_follow_the_locale():
    day = date(2026, 11, 25)
    with translation.override("en"):
        assert ldate(day) == "Nov 25, 2026"
        assert lnumber(Decimal("1234567.5")) == "1,234,567.5"
        assert money(Decimal("1234.5"), "EUR") == "€1,234.50"
        # Rounded half up to the currency's minor unit, as stored: yen have none.
        assert money(Decimal("1234.5"), "JPY") == "¥1,235"
        assert money(Decimal("12.345"), "CNY") == "CN¥12.35"
    with translation.override("zh-hans"):
        assert ldate(day) == "2026年11月25日"
        assert money(Decimal("1234.5"), "CNY") == "¥1,234.50"
        assert money(Decimal("1234.5"), "JPY") == "JP¥1,235"
    with translation.override("zh-hant"):
        assert ldate(day) == "2026年11月25日"
        assert money(Decimal("99"), "TWD") == "$99.00"
        assert money(Decimal("99"), "USD") == "US$99.00"


def test_built_in_choice_labels_follow_the_language(compiled):
    from crm.models import Activity, GuestConsent, Reservation
    from metadata.models import WorkflowRun

    with translation.override("zh-hans"):
        assert str(Reservation.Status.CHECKED_OUT.label) == "已退房"
        assert str(GuestConsent.Channel.SMS.label) == "短信"
        assert str(Activity.Kind.TASK.label) == "任务"
        assert str(WorkflowRun.Status.FAILED.label) == "失败"
    with translation.override("zh-hant"):
        assert str(Reservation.Status.CHECKED_OUT.label) == "已退房"
        assert str(GuestConsent.Channel.SMS.label) == "簡訊"
    with translation.override("en"):
        assert str(Reservation.Status.NO_SHOW.label) == "No-show"
