"""The operators' main pages, in Russian and in English, pass axe-core's WCAG 2.1 A/AA
rules on demo data. Reports: artifacts/axe/operator-<page>-<lang>.json."""

import pytest

from tests.e2e.axe import axe_violations
from tests.e2e.staff import LOCALES, signed_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = {
    "home": "/admin/",
    "changelist": "/admin/tickets/ticket/",
    "ticket": "/admin/tickets/ticket/{ticket}/change/",
    "phone": "/admin/tickets/ticket/register-call/",
    "phone-search": "/admin/tickets/ticket/register-call/?q=Петрова",
    "chat-console": "/admin/chat/chatsession/console/",
    "dashboard": "/dashboard/",
}


@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize("name", PAGES)
def test_operator_page_has_no_wcag_violations(
    demo_ticket, browser, live_server, artifacts_dir, name, lang
):
    username = "supervisor" if name == "dashboard" else "operator1"
    page = signed_in_page(browser, live_server.url, username, lang)
    page.goto(live_server.url + PAGES[name].format(ticket=demo_ticket.pk))
    assert page.get_attribute("html", "lang") == lang

    assert axe_violations(page, artifacts_dir / "axe" / f"operator-{name}-{lang}.json") == []


def test_ticket_page_fits_a_phone_screen(demo_ticket, browser, live_server, artifacts_dir):
    page = signed_in_page(browser, live_server.url, "operator1", width=390, height=844)
    page.goto(f"{live_server.url}/admin/tickets/ticket/{demo_ticket.pk}/change/")

    page.screenshot(path=str(artifacts_dir / "admin-ticket-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    history = page.locator(".ws-history")
    assert history.bounding_box()["width"] <= 390
