"""Every main screen, in Chromium, as the group's administrator: an axe-core scan (the
engine shipped inside the axe-playwright-python package) finds no serious or critical
violation, in English and in Traditional Chinese; and at a phone's width (390 px) no
screen scrolls sideways (wide tables scroll inside their own box)."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from tests.principals import SYSTEM
from tests.ui.screens import MAIN_SCREENS as SCREENS
from tests.ui.test_browser import _signed_in, _switch_language

sync_api = pytest.importorskip("playwright.sync_api")
axe_playwright = pytest.importorskip("axe_playwright_python.sync_playwright")

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def screens(live_site, django_db_blocker) -> list[str]:
    """The screens' paths with the group's own records in them (committed)."""
    from crm.services.cases import case_create
    from metadata.services.modules import module_set_enabled

    with django_db_blocker.unblock(), tenant_context(live_site.tenant):
        module_set_enabled(key="service", enabled=True, actor=SYSTEM)
        module_set_enabled(key="loyalty", enabled=True, actor=SYSTEM)
        case = case_create(subject="Noisy air conditioning", actor=SYSTEM)
    ids = {
        "guest": live_site.guests["ana"],
        "reservation": live_site.reservations["ana"],
        "case": case.pk,
    }
    return [path.format(**ids) for path in SCREENS]


OFFENDERS = """() => {
  const limit = document.documentElement.clientWidth;
  const out = [];
  const clipped = (el) => {
    for (let up = el.parentElement; up; up = up.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(up).overflowX)) return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    if (clipped(el)) continue;
    const right = el.getBoundingClientRect().right;
    const parent = el.parentElement.getBoundingClientRect().right;
    if (right > limit + 1 && (parent <= limit + 1 || el.parentElement === document.body)) {
      const name = typeof el.className === 'string' ? el.className.trim() : '';
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (name ? '.' + name.split(/\\s+/).join('.') : '') +
               ' ' + Math.round(right - limit) + 'px');
    }
  }
  return out.slice(0, 6);
}"""


def _serious(page) -> list[str]:
    results = axe_playwright.Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = [",".join(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


@pytest.mark.parametrize("language", ["en", "zh-hant"])
def test_no_serious_accessibility_violation_on_the_main_screens(
    new_page, live_site, screens, language
):
    page = _signed_in(new_page, live_site.admin_email)
    if language != "en":
        _switch_language(page, "繁體中文")
    problems = {}
    for path in screens:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        found = _serious(page)
        if found:
            problems[path] = found
    assert problems == {}


def test_no_screen_scrolls_sideways_on_a_phone(new_page, live_site, screens, shots):
    page = _signed_in(new_page, live_site.admin_email)
    page.set_viewport_size({"width": 390, "height": 844})
    wide = {}
    for path in screens:
        page.goto(path)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            # The outermost elements that stick out, to say what to fix.
            wide[path] = page.evaluate(OFFENDERS)
            shots(page, path.strip("/").replace("/", "-") or "home")
    assert wide == {}
