"""The chat console is heard and seen (issue 20, item 10): a new waiting chat beeps
(WebAudio, no sound file) and flashes the tab title; the admin home links the console."""

import pytest

from tests.chat.live import PORTS, daphne_processes
from tests.e2e.staff import staff_cookie
from tests.factories import CHAT_OPERATOR, QueueFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(tmp_path):
    with daphne_processes(
        PORTS["browser"], media_root=tmp_path / "media", extra_env={"CHAT_ROUTING": "manual"}
    ) as urls:
        yield urls[0]


def test_a_new_waiting_chat_beeps_and_flashes_the_title(
    server, browser, artifacts_dir, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    queue = QueueFactory(name="Сайт Навигатора", slug="navigator")
    operator = UserFactory(username="anna", first_name="Анна", permissions=CHAT_OPERATOR)
    op_ctx = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    op_ctx.add_cookies([staff_cookie(operator, server)])
    console = op_ctx.new_page()
    console.goto(f"{server}/admin/")
    console.click("#ws-tile-chat")
    console.wait_for_selector("#cc-conn[data-state='ok']")
    console.click("#cc-waiting-title")  # a gesture: browsers start audio only after one
    console.select_option("#cc-availability", "online")
    console.wait_for_function(
        "document.querySelector('#cc-availability').dataset.state === 'online'"
    )
    assert not console.title().startswith("(")

    citizen = browser.new_context(locale="ru-RU").new_page()
    citizen.goto(f"{server}/chat/")
    citizen.fill("#cs-full_name", "Петрова Мария Ивановна")
    citizen.fill("#cs-email", "maria@example.com")
    citizen.select_option("#cs-queue", str(queue.pk))
    citizen.fill("#cs-text", "Не приходит код")
    citizen.click("#chat-start")

    console.wait_for_selector("#console[data-alerts='1']", state="attached")
    assert console.get_attribute("#console", "data-beeps") == "1"
    console.wait_for_function("document.title.startsWith('(1) Новый чат')")
    console.screenshot(path=str(artifacts_dir / "chat-console-alert.png"))
    console.click("#cc-count")
    console.wait_for_function("!document.title.startsWith('(')")
    op_ctx.close()
