"""The end of a live chat in Chromium (issue 20, item 5): the citizen rates the chat
from 1 to 5 with the keyboard only, the page passes axe-core before and after, on a
desktop and a phone; and on a phone the message box stays above the on-screen keyboard.

Real daphne (websockets) on the test database: PostgreSQL, or SQLite with TEST_SQLITE_NAME.
"""

import pytest

from chat.models import ChatSession
from tests.chat.live import PORTS, daphne_processes
from tests.e2e.axe import axe_violations
from tests.e2e.keyboard import tab_to
from tests.e2e.staff import signed_in_page
from tests.factories import CHAT_OPERATOR, QueueFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENS = {"desktop": (1366, 900), "phone": (390, 844)}


@pytest.fixture
def server(tmp_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # are plain blocking calls made between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    QueueFactory(name="Сайт Навигатора", slug="navigator")
    UserFactory(username="anna", first_name="Анна", last_name="Смирнова", permissions=CHAT_OPERATOR)
    with daphne_processes(PORTS["browser_end"], media_root=tmp_path / "media") as urls:
        yield urls[0]


def console_online(browser, server):
    console = signed_in_page(browser, server, "anna")
    console.goto(f"{server}/admin/chat/chatsession/console/")
    console.wait_for_selector("#cc-conn[data-state='ok']")
    console.select_option("#cc-availability", "online")
    console.wait_for_function(
        "document.querySelector('#cc-availability').dataset.state === 'online'"
    )
    return console


def citizen_in_a_chat(browser, server, screen):
    """A citizen whose chat the (automatic) router gave to Анна."""
    width, height = SCREENS[screen]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="ru-RU",
        is_mobile=screen == "phone",
        has_touch=screen == "phone",
    )
    page = context.new_page()
    page.goto(f"{server}/chat/")
    page.fill("#cs-full_name", "Петрова Мария Ивановна")
    page.fill("#cs-email", "maria@example.com")
    page.fill("#cs-text", "Не приходит СМС-код")
    page.click("#chat-start")
    page.wait_for_selector("#chat-operator:has-text('Анна')")
    return page


@pytest.mark.parametrize("screen", SCREENS)
def test_citizen_rates_the_ended_chat_with_the_keyboard(server, browser, artifacts_dir, screen):
    console_online(browser, server)
    page = citizen_in_a_chat(browser, server, screen)

    tab_to(page, "#chat-end")
    page.keyboard.press("Enter")
    page.wait_for_selector("#rating-form:not([hidden])")
    # The composer went away: the focus lands on the notice that the chat ended.
    assert page.evaluate("document.activeElement.id") == "chat-ended-title"
    page.screenshot(path=str(artifacts_dir / f"chat-end-rating-{screen}.png"))
    assert axe_violations(page, artifacts_dir / "axe" / f"public-chat-rating-{screen}.json") == []

    tab_to(page, "#rating-1")  # a radio group: one Tab stop, arrows choose
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.id") == "rating-4"
    focus_ring = page.evaluate(
        "getComputedStyle(document.querySelector('label[for=rating-4]')).outlineStyle"
    )
    assert focus_ring != "none"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "rating-comment"
    page.keyboard.type("Быстро и вежливо")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    page.wait_for_selector("#rating-result:has-text('4 из 5')")
    assert page.locator("#rating-form").is_hidden()
    page.screenshot(path=str(artifacts_dir / f"chat-end-rated-{screen}.png"))
    assert axe_violations(page, artifacts_dir / "axe" / f"public-chat-rated-{screen}.json") == []
    session = ChatSession.objects.get()
    assert (session.rating, session.rating_comment) == (4, "Быстро и вежливо")

    # A reload keeps the thanks and asks no second time.
    page.reload()
    page.wait_for_selector("#rating-result:has-text('4 из 5')")
    assert page.locator("#rating-form").is_hidden()


def test_sending_without_a_choice_says_what_is_missing(server, browser, artifacts_dir):
    console_online(browser, server)
    page = citizen_in_a_chat(browser, server, "desktop")
    page.click("#chat-end")
    page.click("#rating-send")

    assert page.locator("#rating-errors").inner_text() == "Выберите оценку от 1 до 5."
    assert page.evaluate("document.activeElement.id") == "rating-1"
    assert ChatSession.objects.get().rating is None


def test_on_a_phone_the_message_box_stays_above_the_on_screen_keyboard(server, browser):
    console_online(browser, server)
    page = citizen_in_a_chat(browser, server, "phone")
    page.focus("#chat-input")

    def box_and_visible_height():
        return page.evaluate(
            """() => { const r = document.querySelector('#chat-composer').getBoundingClientRect();
            return [r.top, r.bottom, window.visualViewport.height,
                    document.documentElement.scrollWidth]; }"""
        )

    top, bottom, visible, width = box_and_visible_height()
    assert top >= 0 and bottom <= visible and width <= 390
    # The on-screen keyboard takes the lower ~40 % of the screen: the visible height shrinks.
    page.set_viewport_size({"width": 390, "height": 500})
    page.wait_for_function(
        "parseInt(document.documentElement.style.getPropertyValue('--chat-vh')) === 500"
    )
    top, bottom, visible, width = box_and_visible_height()
    assert visible == 500
    assert top >= 0 and bottom <= visible + 0.5, (top, bottom, visible)
    assert width <= 390
