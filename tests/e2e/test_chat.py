"""Live chat in Chromium: a citizen on /chat/ and an operator in the admin console.

Runs against a real daphne process on the test database (PostgreSQL, or SQLite with
TEST_SQLITE_NAME), with manual routing so the operator accepts the chat by hand.
Screenshots of both sides go to artifacts/.
"""

import pytest

from chat.models import ChatSession
from tests.chat.live import PORTS, daphne_processes
from tests.e2e.staff import staff_cookie
from tests.factories import CHAT_OPERATOR, QueueFactory, UserFactory
from tickets.models import Attachment, Message

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path):
    with daphne_processes(
        PORTS["browser"], media_root=tmp_path / "media", extra_env={"CHAT_ROUTING": "manual"}
    ) as urls:
        yield urls[0]


def test_citizen_and_operator_chat_in_the_browser(server, browser, artifacts_dir, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls below are
    # plain blocking calls made between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    queue = QueueFactory(name="Сайт Навигатора", slug="navigator")
    QueueFactory(name="Система бронирования", slug="booking")
    operator = UserFactory(
        username="anna", first_name="Анна", last_name="Смирнова", permissions=CHAT_OPERATOR
    )

    op_ctx = browser.new_context(viewport={"width": 1360, "height": 860}, locale="ru-RU")
    op_ctx.add_cookies([staff_cookie(operator, server)])
    console = op_ctx.new_page()
    console.goto(f"{server}/admin/chat/chatsession/console/")
    console.wait_for_selector("#cc-conn[data-state='ok']")
    console.select_option("#cc-availability", "online")
    console.wait_for_function(
        "document.querySelector('#cc-availability').dataset.state === 'online'"
    )

    cit_ctx = browser.new_context(viewport={"width": 900, "height": 900}, locale="ru-RU")
    page = cit_ctx.new_page()
    page.goto(f"{server}/chat/")
    assert page.locator(".chat__presence--online").is_visible()
    page.fill("#cs-full_name", "Петрова Мария Ивановна")
    page.fill("#cs-email", "maria@example.com")
    page.select_option("#cs-queue", str(queue.pk))
    page.fill("#cs-text", "Не приходит СМС-код для входа в личный кабинет")
    page.screenshot(path=str(artifacts_dir / "chat-citizen-form.png"), full_page=True)
    page.click("#chat-start")
    page.wait_for_selector("#chat-room:not([hidden])")
    number = page.locator("#chat-number").inner_text()
    assert number.startswith("SP-")
    page.wait_for_selector("#chat-status:has-text('в очереди')")

    # The operator sees the waiting chat with its wait time and accepts it.
    console.wait_for_selector(f".cc__wait:has-text('{number}')")
    console.click(f".cc__wait:has-text('{number}') button")
    console.wait_for_selector(f".cc__tab:has-text('{number}')")
    page.wait_for_selector("#chat-operator:has-text('Анна')")

    page.fill("#chat-input", "Здравствуйте! Код не приходит уже час.")
    page.keyboard.press("Enter")
    console.wait_for_selector(".cc__line--them:has-text('Код не приходит уже час')")
    page.wait_for_selector(".chat__line--me[data-state='delivered']")

    console.fill("[data-x='input']", "Добрый день, Мария! Проверяю ваш номер телефона.")
    console.click(".cc__composer button[type='submit']")
    page.wait_for_selector(".chat__line--them:has-text('Проверяю ваш номер')")

    # A screenshot of the citizen's own screen goes up as a file and shows inline.
    shot = artifacts_dir / "chat-upload-sample.png"
    page.screenshot(path=str(shot))
    page.set_input_files("#chat-file", str(shot))
    page.wait_for_selector(".chat__image img")
    console.wait_for_selector(".cc__image img")
    page.fill("#chat-input", "Вот снимок экрана <b>с ошибкой</b>")
    page.keyboard.press("Enter")
    console.wait_for_selector(".cc__line--them:has-text('<b>с ошибкой</b>')")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chat__image img')].every(i => i.complete)"
    )
    console.wait_for_function(
        "() => [...document.querySelectorAll('.cc__image img')].every(i => i.complete)"
    )

    page.screenshot(path=str(artifacts_dir / "chat-citizen.png"))
    console.screenshot(path=str(artifacts_dir / "chat-operator.png"))

    session = ChatSession.objects.get(
        ticket__number__isnull=False, citizen_name__startswith="Петрова"
    )
    texts = list(
        Message.objects.filter(ticket=session.ticket).order_by("id").values_list("text", flat=True)
    )
    assert texts[0] == "Не приходит СМС-код для входа в личный кабинет"
    assert "Здравствуйте! Код не приходит уже час." in texts
    assert "Добрый день, Мария! Проверяю ваш номер телефона." in texts
    assert Attachment.objects.filter(ticket=session.ticket, content_type="image/png").exists()
    assert session.ticket.reference == number
    cit_ctx.close()
    op_ctx.close()


def test_widget_script_opens_the_chat_in_an_iframe_on_another_page(
    server, browser, artifacts_dir, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    QueueFactory(name="Сайт Навигатора", slug="navigator")
    ctx = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-US")
    page = ctx.new_page()
    page.set_content(
        "<html lang='en'><body style='font-family:sans-serif;padding:40px'>"
        "<h1>A partner site</h1><p>Some page content.</p>"
        f"<script src='{server}/chat/widget.js'></script></body></html>"
    )
    page.click(".hdchat-btn")
    frame = page.frame_locator(".hdchat-frame")
    frame.locator("#chat-start-form").wait_for()
    assert "Leave a message" in frame.locator(".chat__title").inner_text()
    page.screenshot(path=str(artifacts_dir / "chat-widget.png"))
    ctx.close()
