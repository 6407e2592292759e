"""In Chromium, in Simplified Chinese, as a service agent would: open a complaint at the
desk, take it, reply to the guest, see the guest's answer come back through the mail
provider's hook, ask for a voucher that the manager approves, resolve the case; the guest
answers the survey on a phone-sized screen and the satisfaction screen shows the score.
Screenshots go to test-artifacts/<test>/."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import urllib.parse
import urllib.request
from datetime import date, timedelta
from decimal import Decimal
from email.message import EmailMessage

import pytest
from django.core import mail
from django_tenants.utils import tenant_context

from tests.conftest import PASSWORD
from tests.principals import SYSTEM
from tests.ui.test_browser import _signed_in, _switch_language
from tests.ui.test_browser_reservation import _words

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SIGNING_KEY = "key-browser-inbound"
SECRET = "mailgun:browser-hook"


@pytest.fixture(scope="module")
def desk_site(live_site, django_db_blocker):
    """The live group with the service desk on, an agent of its hotel, and a guest who
    stayed there and was invited to the post-stay survey (committed, for the server)."""
    from django.contrib.auth import get_user_model

    from crm.models import Guest, Property
    from crm.service.services.surveys import invitation_create, link_path, survey_create
    from crm.services.guests import guest_update
    from crm.services.reservations import reservation_create
    from metadata.services.modules import module_set_enabled
    from tenants.access.models import Role
    from tenants.access.services import user_roles_set

    with django_db_blocker.unblock(), tenant_context(live_site.tenant):
        module_set_enabled(key="service", enabled=True, actor=SYSTEM)
        agent_email = f"agent@{live_site.domain}"
        agent = get_user_model().objects.create_user(email=agent_email, password=PASSWORD)
        user_roles_set(user=agent, roles=Role.objects.filter(key="service_agent"), actor=SYSTEM)
        guest = Guest.objects.get(pk=live_site.guests["ana"])
        guest = guest_update(guest=guest, language="zh-hans", actor=SYSTEM)
        hotel = Property.objects.get(code="HBR")
        stay = reservation_create(
            property=hotel,
            guest=guest,
            confirmation_number="HBR-SVC",
            arrival=date.today() - timedelta(days=3),
            departure=date.today() - timedelta(days=1),
            total_amount=Decimal("240"),
            currency="EUR",
            actor=SYSTEM,
        )
        survey = survey_create(
            key="post-stay",
            title="How was your stay?",
            translations={"zh-hans": {"title": "您的住宿体验如何？"}},
            questions=[{"key": "nps", "kind": "nps", "text": "Would you recommend us?",
                        "translations": {"zh-hans": {"text": "您会向朋友推荐我们吗？"}},
                        "required": True}],
            actor=SYSTEM,
        )  # fmt: skip
        link = link_path(
            invitation_create(survey=survey, guest=guest, reservation=stay, actor=SYSTEM)
        )
    return {"agent": agent_email, "hotel": hotel.name, "guest": guest.pk, "survey_link": link}


def _mailgun_post(site, to: str, text: str) -> int:
    """The guest's answer as Mailgun forwards it: raw MIME, signed, with basic auth."""
    answer = EmailMessage()
    answer["From"] = "Ana Lima <ana@example.com>"
    answer["To"] = to
    answer["Subject"] = "Re: 关于您的请求"
    answer["Message-ID"] = "<ana-answer-1@example.com>"
    answer.set_content(text)
    timestamp, token = str(int(time.time())), "browser-token-0123456789abcdef0123456789"
    signature = hmac.new(SIGNING_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    body = urllib.parse.urlencode({
        "recipient": to, "sender": "ana@example.com", "body-mime": answer.as_string(),
        "timestamp": timestamp, "token": token, "signature": signature.hexdigest(),
    }).encode()  # fmt: skip
    request = urllib.request.Request(  # noqa: S310 - a local test server
        f"http://127.0.0.1:{site.port}/webhooks/mail/mailgun/inbound/",
        data=body,
        method="POST",
        headers={
            "Host": f"{site.domain}:{site.port}",
            "Authorization": "Basic " + base64.b64encode(SECRET.encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
        return response.status


def test_an_agent_works_a_complaint_end_to_end_in_chinese(
    new_page, live_site, desk_site, shots, settings
):
    from django.core.management import call_command

    from crm.models import Case
    from crm.service.models import CaseMessage, Compensation
    from crm.service.services.messages import reply_address

    call_command("compilemessages", verbosity=0, locale=["en", "zh_Hans", "zh_Hant"],
                 ignore_patterns=[".venv", "staticfiles"])  # fmt: skip
    settings.ATRIUM_WORKFLOWS_INLINE = True  # the reply leaves in the request's thread
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    site = live_site
    w = _words(
        "zh-hans", "Service desk", "New case", "Subject", "Hotel", "Guest number",
        "Open the case", "The case is open.", "Owner", "Assign", "The case has a new owner.",
        "Send reply", "The reply is on its way to the guest.", "From the guest", "What",
        "Amount", "Ask for approval", "The compensation waits for approval.", "Approve",
        "Compensation approved.", "Approved", "Status", "Resolved", "Save",
        "The case is updated.", "Satisfaction", "Voucher",
    )  # fmt: skip
    assert w["Service desk"] != "Service desk"

    agent = _signed_in(new_page, desk_site["agent"])
    _switch_language(agent, "简体中文")
    agent.get_by_role("link", name=w["Service desk"]).click()
    agent.get_by_role("link", name=w["New case"]).click()
    agent.get_by_label(w["Subject"]).fill("淋浴没有热水")
    agent.get_by_label(w["Hotel"]).select_option(label=desk_site["hotel"])
    agent.get_by_label(w["Guest number"]).fill(str(desk_site["guest"]))
    shots(agent, "new-case")
    agent.get_by_role("button", name=w["Open the case"]).click()
    expect(agent.get_by_text(w["The case is open."])).to_be_visible()
    expect(agent.get_by_role("heading", name="淋浴没有热水")).to_be_visible()
    with tenant_context(site.tenant):
        case = Case.objects.get(subject="淋浴没有热水")

    agent.get_by_label(w["Owner"]).select_option(label=desk_site["agent"])
    agent.get_by_role("button", name=w["Assign"], exact=True).click()
    expect(agent.get_by_text(w["The case has a new owner."])).to_be_visible()

    agent.locator("#c-reply").fill("非常抱歉，工程师马上到您的房间。")
    agent.get_by_role("button", name=w["Send reply"]).click()
    expect(agent.get_by_text(w["The reply is on its way to the guest."])).to_be_visible()
    [sent] = [m for m in mail.outbox if "ana@example.com" in m.to]
    assert "工程师马上到您的房间" in sent.body and sent.subject.startswith("关于您的请求")
    shots(agent, "replied")

    # The guest answers the e-mail; the provider hands it to the hook.
    with tenant_context(site.tenant):
        address = reply_address(case)
    assert sent.extra_headers["Reply-To"] == address
    assert _mailgun_post(site, address, "谢谢，现在有热水了。") == 200
    agent.reload()
    expect(agent.get_by_text("谢谢，现在有热水了。")).to_be_visible()
    with tenant_context(site.tenant):
        assert CaseMessage.objects.filter(case_id=case.pk, direction="in").count() == 1

    agent.get_by_label(w["What"]).select_option(label=w["Voucher"])
    agent.get_by_label(w["Amount"] + " (EUR)").fill("30")
    agent.get_by_role("button", name=w["Ask for approval"]).click()
    expect(agent.get_by_text(w["The compensation waits for approval."])).to_be_visible()
    shots(agent, "compensation-asked")

    manager = _signed_in(new_page, site.admin_email)
    _switch_language(manager, "简体中文")
    manager.goto(f"/service/cases/{case.pk}/")
    manager.get_by_role("button", name=w["Approve"]).click()
    expect(manager.get_by_text(w["Compensation approved."])).to_be_visible()
    with tenant_context(site.tenant):
        assert Compensation.objects.get(case_id=case.pk).status == "approved"

    agent.reload()
    expect(agent.locator('[data-field="compensation-status"]')).to_have_text(w["Approved"])
    agent.get_by_label(w["Status"], exact=True).select_option(label=w["Resolved"])
    agent.get_by_role("button", name=w["Save"]).click()
    expect(agent.get_by_text(w["The case is updated."])).to_be_visible()
    expect(agent.locator('dd[data-field="status"]')).to_have_text(w["Resolved"])
    shots(agent, "resolved")

    # The guest answers the survey on a phone.
    phone = new_page(locale="zh-CN", width=390, height=844)
    phone.goto(desk_site["survey_link"])
    expect(phone.get_by_role("heading", name="您的住宿体验如何？")).to_be_visible()
    phone.get_by_role("radio", name="9").check()
    shots(phone, "survey-phone")
    phone.get_by_role("button").last.click()
    expect(phone.get_by_role("heading").first).not_to_have_text("您的住宿体验如何？")

    manager.get_by_role("link", name=w["Satisfaction"]).click()
    expect(manager.locator("[data-nps]").first).to_have_attribute("data-nps", "100.0")
    shots(manager, "satisfaction")
