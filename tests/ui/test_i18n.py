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
from tests.ui.screens import MAIN_SCREENS as SCREENS

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


MAIN_SCREENS = [
    *SCREENS,
    "/imports/jobs/{job}/",
    "/settings/objects/guest/fields/",
    "/settings/modules/",
]
_SKIP = re.compile(r"<(script|style|code)\b.*?</\1>", re.S)  # code: API names, not words
_TEXT = re.compile(r">([^<>]+)<")
_SHOWN_ATTRIBUTES = re.compile(r'\b(?:aria-label|placeholder|title)="([^"]+)"')


def _shown_texts(page: str) -> set[str]:
    """What a reader sees in the page's main part: text between tags and the labels,
    placeholders and titles of its elements, whitespace folded."""
    import html

    main = page.split("<main", 1)[-1].split("</main>", 1)[0]
    main = _SKIP.sub("", main)
    found = _TEXT.findall(main) + _SHOWN_ATTRIBUTES.findall(main)
    return {" ".join(html.unescape(t).split()) for t in found} - {""}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "catalogue"), [("zh-hans", "zh_Hans"), ("zh-hant", "zh_Hant")]
)
def test_no_built_in_english_string_on_the_main_screens_in_chinese(
    compiled, tenant_a, language, catalogue
):
    """Every main screen, with records in it, rendered in each Chinese script: no text
    shown equals an English string of the catalogue whose translation differs (a label
    or a choice left unmarked, a template string outside {% translate %})."""
    from crm.services.cases import case_create
    from metadata.services.modules import module_set_enabled
    from tests.crm.factories import make_guest, make_property, make_reservation
    from tests.principals import SYSTEM

    english = {msgid for msgid, msgstr in _entries(catalogue) if msgstr != msgid}
    english = {t for t in english if re.search("[A-Za-z]{2}", t) and "%(" not in t}
    from django_tenants.utils import tenant_context

    with tenant_context(tenant_a):
        for module in ("service", "loyalty"):
            module_set_enabled(key=module, enabled=True, actor=SYSTEM)
        guest = make_guest(given_name="Mei", surname="Zhang")
        stay = make_reservation(property=make_property(code="I18N"), guest=guest)
        case = case_create(subject="空调太吵", actor=SYSTEM)
        from tenants.jobs.models import Job

        job = Job.objects.create(
            kind="crm.import", status=Job.Status.SUCCEEDED, progress=100,
            payload={"file_name": "guests.csv"},
            result={"rows": 3, "created": 2, "updated": 0, "errors": 1},
        )  # fmt: skip
    ids = {"guest": guest.pk, "reservation": stay.pk, "case": case.pk, "job": job.pk}
    from tenants.middleware import tenant_hosts_forget
    from tenants.models import Tenant

    Tenant.objects.filter(pk=tenant_a.pk).update(enabled_languages=["en", "zh-hans", "zh-hant"])
    tenant_hosts_forget()
    client = tenant_client(tenant_a)
    client.post("/i18n/language/", {"language": language, "next": "/"})

    left: dict[str, list[str]] = {}
    for path in (p.format(**ids) for p in MAIN_SCREENS):
        answer = client.get(path)
        assert answer.status_code == 200, path
        shown = _shown_texts(answer.content.decode())
        english_here = sorted(shown & english)
        if english_here:
            left[path] = english_here
    assert left == {}
