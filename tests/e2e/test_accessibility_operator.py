"""The operators' main pages, in Russian and in English, pass axe-core's WCAG 2.1 A/AA
rules on demo data. Reports: artifacts/axe/operator-<page>-<lang>.json."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from tests.e2e.axe import axe_violations
from tickets.models import NumberSequence, Ticket
from tickets.numbering import COUNTER_NAME

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = {"ru": "ru-RU", "en": "en-US"}
PAGES = {
    "home": "/admin/",
    "changelist": "/admin/tickets/ticket/",
    "ticket": "/admin/tickets/ticket/{ticket}/change/",
    "phone": "/admin/tickets/ticket/register-call/",
    "phone-search": "/admin/tickets/ticket/register-call/?q=Петрова",
    "chat-console": "/admin/chat/chatsession/console/",
    "dashboard": "/dashboard/",
}


@pytest.fixture
def demo(live_server):
    # A transactional test flushes the table the data migration filled.
    NumberSequence.objects.get_or_create(name=COUNTER_NAME)
    call_command("seed_demo", tickets=60, seed=7, verbosity=0)
    # A ticket with a conversation, a history and the SLA clock running.
    return (
        Ticket.objects.filter(status=Ticket.Status.OPEN, messages__isnull=False)
        .order_by("number")
        .first()
    )


def signed_in_page(browser, live_server, username, lang, width=1366, height=900):
    """A page whose session is already signed in (the sign-in form has its own tests)."""
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale=LANGUAGES[lang]
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("name", PAGES)
def test_operator_page_has_no_wcag_violations(
    demo, browser, live_server, artifacts_dir, name, lang
):
    username = "supervisor" if name == "dashboard" else "operator1"
    page = signed_in_page(browser, live_server, username, lang)
    page.goto(live_server.url + PAGES[name].format(ticket=demo.pk))
    assert page.get_attribute("html", "lang") == lang

    assert axe_violations(page, artifacts_dir / "axe" / f"operator-{name}-{lang}.json") == []


def test_ticket_page_fits_a_phone_screen(demo, browser, live_server, artifacts_dir):
    page = signed_in_page(browser, live_server, "operator1", "ru", width=390, height=844)
    page.goto(f"{live_server.url}/admin/tickets/ticket/{demo.pk}/change/")

    page.screenshot(path=str(artifacts_dir / "admin-ticket-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    history = page.locator(".ws-history")
    assert history.bounding_box()["width"] <= 390
