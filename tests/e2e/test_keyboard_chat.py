"""The live chat without a mouse, and its rooms under axe-core: a citizen starts a chat
and writes, an operator goes online, accepts it and answers, all with the keyboard; the
chat room and the console with a chat open pass the WCAG 2.1 A/AA rules.

Real daphne (websockets) on the test database: PostgreSQL, or SQLite with TEST_SQLITE_NAME.
"""

import pytest
from django.contrib.auth import get_user_model

from tests.chat.live import PORTS, daphne_processes
from tests.e2e.axe import axe_violations
from tests.e2e.keyboard import focus_is_visible, tab_to
from tests.e2e.staff import LOCALES, signed_in_page
from tests.factories import CHAT_OPERATOR, QueueFactory, UserFactory
from tickets.models import CannedResponse, Message, Ticket, TicketEvent

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # are plain blocking calls made between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    QueueFactory(name="Сайт Навигатора", slug="navigator")
    UserFactory(username="anna", first_name="Анна", last_name="Смирнова", permissions=CHAT_OPERATOR)
    with daphne_processes(
        PORTS["browser"], media_root=tmp_path / "media", extra_env={"CHAT_ROUTING": "manual"}
    ) as urls:
        yield urls[0]


def _console_online(browser, server, lang):
    console = signed_in_page(browser, server, "anna", lang)
    console.goto(f"{server}/admin/chat/chatsession/console/")
    console.wait_for_selector("#cc-conn[data-state='ok']")
    tab_to(console, "#cc-availability")
    for _ in range(3):  # online is the first choice: up until the server says so
        if console.evaluate("document.querySelector('#cc-availability').value") == "online":
            break
        console.keyboard.press("ArrowUp")
    console.wait_for_function(
        "document.querySelector('#cc-availability').dataset.state === 'online'"
    )
    return console


def _citizen_starts_a_chat(browser, server, lang):
    context = browser.new_context(viewport={"width": 900, "height": 900}, locale=LOCALES[lang])
    page = context.new_page()
    page.goto(f"{server}/chat/")
    tab_to(page, "#cs-full_name")
    page.keyboard.type("Петрова Мария Ивановна")
    tab_to(page, "#cs-email")
    page.keyboard.type("maria@example.com")
    tab_to(page, "#cs-text")
    page.keyboard.type("Не приходит СМС-код")
    tab_to(page, "#chat-start")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_selector("#chat-room:not([hidden])")
    return page, page.locator("#chat-number").inner_text()


def _operator_accepts(console, number):
    accept = f".cc__wait:has-text('{number}') button"
    console.wait_for_selector(accept)
    tab_to(console, accept)
    assert focus_is_visible(console)
    console.keyboard.press("Enter")
    console.wait_for_selector(f".cc__tab:has-text('{number}')")


def test_citizen_and_operator_chat_with_the_keyboard_only(server, browser, artifacts_dir):
    console = _console_online(browser, server, "ru")
    page, number = _citizen_starts_a_chat(browser, server, "ru")
    _operator_accepts(console, number)
    page.wait_for_selector("#chat-operator:has-text('Анна')")

    tab_to(page, "#chat-input")
    page.keyboard.type("Здравствуйте! Код не приходит уже час.")
    page.keyboard.press("Enter")
    console.wait_for_selector(".cc__line--them:has-text('Код не приходит уже час')")

    # Accepting a chat puts the focus in its reply box.
    assert console.evaluate("document.activeElement.dataset.x") == "input"
    console.keyboard.type("Добрый день, Мария! Проверяю ваш номер.")
    console.keyboard.press("Enter")
    page.wait_for_selector(".chat__line--them:has-text('Проверяю ваш номер')")
    page.screenshot(path=str(artifacts_dir / "keyboard-chat-citizen.png"))
    console.screenshot(path=str(artifacts_dir / "keyboard-chat-console.png"))

    operator = get_user_model().objects.get(username="anna")
    assert Message.objects.filter(author=operator, text__contains="Проверяю ваш номер").exists()


@pytest.mark.parametrize("lang", LOCALES)
def test_chat_room_and_console_with_a_chat_have_no_wcag_violations(
    server, browser, artifacts_dir, lang
):
    console = _console_online(browser, server, lang)
    page, number = _citizen_starts_a_chat(browser, server, lang)
    _operator_accepts(console, number)
    console.keyboard.type("Добрый день!")
    console.keyboard.press("Enter")
    page.wait_for_selector(".chat__line--them")

    found = {
        "room": axe_violations(page, artifacts_dir / "axe" / f"public-chat-room-{lang}.json"),
        "console": axe_violations(
            console, artifacts_dir / "axe" / f"operator-chat-console-open-{lang}.json"
        ),
    }
    assert found == {"room": [], "console": []}


def test_arrow_keys_move_through_canned_answers_without_inserting_and_enter_inserts(
    server, browser, artifacts_dir
):
    CannedResponse.objects.create(title="1. Приветствие", body="Здравствуйте, {name}!")
    CannedResponse.objects.create(title="2. Код", body="Отправили код повторно ({number}).")
    CannedResponse.objects.create(title="3. Прощание", body="Всего доброго!")
    console = _console_online(browser, server, "ru")
    _page, number = _citizen_starts_a_chat(browser, server, "ru")
    _operator_accepts(console, number)
    reply = console.locator("[data-x='input']")

    tab_to(console, "[data-x='canned']")
    assert focus_is_visible(console)
    console.keyboard.press("ArrowDown")
    console.keyboard.press("ArrowDown")
    console.keyboard.press("ArrowDown")
    console.keyboard.press("ArrowUp")
    # Passing answers on the way only selects them.
    assert reply.input_value() == ""
    assert console.evaluate("document.activeElement.dataset.x") == "canned"

    console.keyboard.press("Enter")  # down to 3, up to 2: the chosen one goes in
    assert reply.input_value() == f"Отправили код повторно ({number})."
    assert console.evaluate("document.activeElement.dataset.x") == "input"

    # The button inserts too (a mouse user picks, then presses Insert).
    console.select_option("[data-x='canned']", label="3. Прощание")
    assert reply.input_value() == f"Отправили код повторно ({number})."
    console.click("[data-x='canned-insert']")
    assert reply.input_value() == f"Отправили код повторно ({number}).\nВсего доброго!"
    console.screenshot(path=str(artifacts_dir / "console-canned-inserted.png"))


def test_handing_a_chat_to_the_second_line_asks_for_the_note(server, browser, artifacts_dir):
    # Seed 002 §3.7: the transfer to the second line is an escalation; its note is
    # required and asked for, never filled in for the operator.
    console = _console_online(browser, server, "ru")
    page, number = _citizen_starts_a_chat(browser, server, "ru")
    _operator_accepts(console, number)
    note = console.locator("[data-x='escalate-note']")
    assert not note.is_visible()  # only once the second line is chosen

    console.select_option("[data-x='transfer']", "line2")
    assert note.is_visible()
    console.click("[data-x='do-transfer']")

    error = console.locator("[data-x='escalate-error']")
    assert error.inner_text() == (
        "Напишите комментарий для второй линии: о чём просит гражданин и что уже сделано."
    )
    assert console.evaluate("document.activeElement.dataset.x") == "escalate-note"
    assert note.get_attribute("aria-invalid") == "true"
    assert axe_violations(console, artifacts_dir / "axe" / "chat-console-escalate-note.json") == []
    console.screenshot(path=str(artifacts_dir / "chat-console-escalate-note.png"))
    ticket = Ticket.objects.get(number=int(number.split("-")[1]))
    assert ticket.line == Ticket.Line.FIRST

    console.keyboard.type("Просит пересчитать начисление; выписку проверили.")
    assert not error.is_visible()
    console.click("[data-x='do-transfer']")

    page.wait_for_selector("#chat-room:has-text('передан специалистам')")
    ticket.refresh_from_db()
    assert ticket.line == Ticket.Line.SECOND
    escalated = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
    assert escalated.note == "Просит пересчитать начисление; выписку проверили."
