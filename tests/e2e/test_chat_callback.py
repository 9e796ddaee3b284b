"""«Перезвоните мне» from the chat widget in Chromium (issue 17, item 1): with no operator
online the citizen ticks the box with the keyboard, chooses tomorrow evening and is told
«Мы перезвоним вам …» with the window and the queue's zone; the entry is on the call-back
list. The form and the answer pass axe-core on a desktop and a phone."""

import pytest

from tests.e2e.axe import axe_violations
from tests.e2e.keyboard import focus_is_visible, tab_to
from tickets.models import CallbackRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def browser(browser, queue):
    # The queue exists before the first page load.
    return browser


@pytest.mark.parametrize("screen", SCREENS)
def test_citizen_asks_the_chat_for_a_call_back_with_the_keyboard(
    browser, live_server, artifacts_dir, screen
):
    width, height = SCREENS[screen]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_server.url}/chat/")
    assert page.locator(".chat__presence--offline").is_visible()
    assert not page.is_visible("#cs-callback_window")  # shown once the box is ticked

    tab_to(page, "#cs-full_name")
    page.keyboard.type("Петрова Мария Ивановна")
    tab_to(page, "#cs-phone")
    page.keyboard.type("8 (912) 345-67-89")
    tab_to(page, "#cs-text")
    page.keyboard.type("Не приходит СМС-код")
    tab_to(page, "#cs-callback")
    assert focus_is_visible(page)
    page.keyboard.press("Space")
    assert page.is_visible("#cs-callback_window")
    assert page.locator("#chat-start").inner_text() == "Заказать обратный звонок"
    page.select_option("#cs-callback_day", value="tomorrow")
    page.select_option("#cs-callback_window", value="evening")
    page.screenshot(path=str(artifacts_dir / f"chat-callback-form-{screen}.png"), full_page=True)
    assert axe_violations(page, artifacts_dir / "axe" / f"public-chat-callback-{screen}.json") == []

    tab_to(page, "#chat-start")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-callback-promise:not([hidden])")

    promise = page.locator("#chat-callback-promise").inner_text()
    assert promise.startswith("Мы перезвоним вам ")
    assert "вечером (17–20) по времени МСК по номеру +79123456789" in promise
    # A phone only: no e-mail confirmation is promised.
    assert page.locator("#chat-offline-mailed").is_hidden()
    page.screenshot(path=str(artifacts_dir / f"chat-callback-done-{screen}.png"), full_page=True)
    assert (
        axe_violations(page, artifacts_dir / "axe" / f"public-chat-callback-done-{screen}.json")
        == []
    )
    callback = CallbackRequest.objects.get()
    assert (callback.source, callback.window) == ("chat", "evening")
    assert callback.ticket.reference == page.locator("#chat-offline-number").inner_text()
    context.close()


def test_chat_call_back_without_a_phone_points_at_the_phone_field(browser, live_server):
    page = browser.new_context(locale="ru-RU").new_page()
    page.goto(f"{live_server.url}/chat/")
    page.fill("#cs-full_name", "Петрова Мария")
    page.fill("#cs-email", "maria@example.com")
    page.fill("#cs-text", "Вопрос")
    page.check("#cs-callback")
    page.click("#chat-start")

    page.wait_for_selector("[data-field='phone'].field--error")
    assert page.evaluate("document.activeElement.id") == "cs-phone"
    assert "перезвонить" in page.locator("[data-field='phone'] .errorlist").inner_text()
    assert not CallbackRequest.objects.exists()
