"""«Перезвоните мне» inside an open chat in Chromium (issue 17, item 1): during the
conversation the citizen opens the call-back form from the chat's header with the
keyboard, gives a number, a window and a reason, and is told «Мы перезвоним вам …»; the
entry is on the chat's ticket and Анна's console shows the request as a line. The widget
with the form open passes axe-core, on a desktop and a phone.

Real daphne (websockets) on the test database: PostgreSQL, or SQLite with TEST_SQLITE_NAME.
"""

import pytest

from chat.models import ChatSession
from tests.chat.live import daphne_processes
from tests.e2e.axe import axe_violations
from tests.e2e.keyboard import focus_is_visible, tab_to
from tests.e2e.test_chat_end import SCREENS, citizen_in_a_chat, console_online
from tests.factories import CHAT_OPERATOR, QueueFactory, UserFactory
from tickets.models import CallbackRequest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PORT = (8627,)  # its own: other browser tests' daphnes may still be stopping


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    QueueFactory(name="Сайт Навигатора", slug="navigator")
    UserFactory(username="anna", first_name="Анна", last_name="Смирнова", permissions=CHAT_OPERATOR)
    with daphne_processes(PORT, media_root=tmp_path / "media") as urls:
        yield urls[0]


@pytest.mark.parametrize("screen", SCREENS)
def test_citizen_asks_for_a_call_back_during_the_chat_with_the_keyboard(
    server, browser, artifacts_dir, screen
):
    console = console_online(browser, server)
    page = citizen_in_a_chat(browser, server, screen)
    toggle = page.locator("#chat-callback-toggle")
    assert toggle.inner_text() == "Перезвоните мне"
    assert toggle.get_attribute("aria-expanded") == "false"
    assert page.locator("#chat-callback-form").is_hidden()

    tab_to(page, "#chat-callback-toggle")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.id") == "cb-phone"
    page.keyboard.type("8 (912) 345-67-89")
    page.select_option("#cb-callback_day", value="tomorrow")
    page.select_option("#cb-callback_window", value="evening")
    page.fill("#cb-callback_reason", "вход в кабинет")
    page.screenshot(path=str(artifacts_dir / f"chat-in-callback-form-{screen}.png"), full_page=True)
    assert axe_violations(page, artifacts_dir / "axe" / f"chat-in-callback-{screen}.json") == []

    tab_to(page, "#chat-callback-send")
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-callback-done:not([hidden])")

    done = page.locator("#chat-callback-done")
    assert done.inner_text().startswith("Мы перезвоним вам ")
    assert "вечером (17–20)" in done.inner_text() and "+79123456789" in done.inner_text()
    assert page.evaluate("document.activeElement.id") == "chat-callback-done"
    assert page.locator("#chat-callback-form").is_hidden() and toggle.is_hidden()
    # The request is the citizen's line, in the chat and in the operator's console.
    page.wait_for_selector("#chat-log li:has-text('☎ Перезвоните мне')")
    console.wait_for_selector(".cc__line--them:has-text('☎ Перезвоните мне')")
    assert (
        axe_violations(page, artifacts_dir / "axe" / f"chat-in-callback-done-{screen}.json") == []
    )
    callback = CallbackRequest.objects.get()
    assert callback.ticket == ChatSession.objects.get().ticket
    assert (callback.source, callback.window, callback.phone) == ("chat", "evening", "+79123456789")


def test_a_wrong_number_is_pointed_at_in_the_form(server, browser):
    console_online(browser, server)
    page = citizen_in_a_chat(browser, server, "desktop")
    page.click("#chat-callback-toggle")
    page.fill("#cb-phone", "12")
    page.click("#chat-callback-send")

    page.wait_for_selector("[data-field='phone'] .field--error .errorlist")
    assert page.evaluate("document.activeElement.id") == "cb-phone"
    assert page.get_attribute("#cb-phone", "aria-invalid") == "true"
    assert not CallbackRequest.objects.exists()
