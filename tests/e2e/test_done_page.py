"""The done page in Chromium: "copy the link" puts the private link on the clipboard and
says so; the phone-only notice fits a phone screen."""

import pytest

from tests.tickets.admin_helpers import new_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _open_done(browser, live_server, ticket, width, height):
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="ru-RU",
        permissions=["clipboard-read", "clipboard-write"],
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/appeal/done/{ticket.reference}/?t={ticket.token}")
    return page


def test_copy_the_link_puts_the_status_link_on_the_clipboard(browser, live_server, queue):
    ticket = new_ticket(queue)
    page = _open_done(browser, live_server, ticket, 1366, 900)

    page.click("[data-copy-target]")
    page.wait_for_selector("[data-copy-status]:has-text('Ссылка скопирована')")

    clipboard = page.evaluate("navigator.clipboard.readText()")
    assert clipboard.endswith(f"/appeal/{ticket.reference}/?t={ticket.token}")


def test_the_phone_only_done_page_on_a_phone(browser, live_server, queue, artifacts_dir):
    ticket = new_ticket(queue, email="", phone="+79001234567")
    page = _open_done(browser, live_server, ticket, 390, 844)

    assert page.locator("#answer-by-phone").is_visible()
    assert page.locator("[data-copy-target]").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir / "done-phone-only.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.screenshot(path=str(artifacts_dir / "done-phone-only-desktop.png"), full_page=True)
