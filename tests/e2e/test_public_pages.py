"""Browser walk through the public pages: the form, the success page, the status page."""

import pytest

from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(browser, queue, other_queue):
    # The queues exist before the first page load.
    return browser


def _page(browser, width=1280, height=900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU")
    return context.new_page()


def _fill_appeal(page):
    page.fill("#id_full_name", "Петрова Мария Ивановна")
    page.fill("#id_email", "maria@example.com")
    page.fill("#id_phone", "+7 900 123-45-67")
    page.select_option("#id_queue", label="Сайт Навигатора")
    page.select_option("#id_kind", value="problem")
    page.fill("#id_subject", "Не приходит СМС-код при регистрации")
    page.fill(
        "#id_text",
        "Здравствуйте! Третий день пытаюсь зарегистрироваться, но код подтверждения "
        "по СМС не приходит. Номер телефона указан верно.",
    )
    page.check("#id_consent")


def test_appeal_form_success_and_status_pages(browser, live_server, artifacts_dir, operator):
    from tickets.services import message_add_reply

    page = _page(browser)
    page.goto(f"{live_server.url}/appeal/")
    assert page.locator("h1").inner_text() == "Подать обращение"
    page.screenshot(path=str(artifacts_dir / "appeal-form.png"), full_page=True)

    page.click("button[type=submit].btn")
    assert page.locator(".errorlist").count() >= 5
    page.screenshot(path=str(artifacts_dir / "appeal-form-errors.png"), full_page=True)

    _fill_appeal(page)
    page.click("button[type=submit].btn")
    page.wait_for_url("**/appeal/done/**")
    ticket = Ticket.objects.get()
    assert page.locator(".ticket-number").inner_text() == ticket.reference
    assert "Ответ будет дан в течение 24 часов" in page.locator(".deadline").inner_text()
    page.screenshot(path=str(artifacts_dir / "appeal-done.png"), full_page=True)

    message_add_reply(
        ticket=ticket,
        author=operator,
        text="Здравствуйте, Мария Ивановна! Мы проверили отправку СМС: оператор связи "
        "задерживал сообщения. Запросите код ещё раз — сейчас всё работает.",
    )
    message_add_reply(ticket=ticket, author=operator, text="Внутренняя заметка", is_internal=True)
    page.click("text=Открыть обращение")
    page.wait_for_selector(".timeline")
    assert page.locator(".timeline__item").count() == 2
    assert "Внутренняя заметка" not in page.content()
    page.screenshot(path=str(artifacts_dir / "appeal-status.png"), full_page=True)

    page.fill("#id_text", "Спасибо, код пришёл!")
    page.click("form[enctype] button[type=submit]")
    page.wait_for_selector(".flash__item")
    assert page.locator(".timeline__item").count() == 3
    page.screenshot(path=str(artifacts_dir / "appeal-status-replied.png"), full_page=True)


def test_form_on_a_phone_screen_and_in_english(browser, live_server, artifacts_dir):
    page = _page(browser, width=390, height=844)
    page.goto(f"{live_server.url}/appeal/")
    page.screenshot(path=str(artifacts_dir / "appeal-form-mobile.png"), full_page=True)

    page.click(".lang-switch button[value=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Submit an appeal"
    page.screenshot(path=str(artifacts_dir / "appeal-form-en.png"), full_page=True)


def test_unknown_status_link_shows_the_friendly_not_found_page(browser, live_server, artifacts_dir):
    page = _page(browser)
    response = page.goto(f"{live_server.url}/appeal/SP-0042/?t=guess")

    assert response.status == 404
    assert page.locator("h1").inner_text() == "Ничего не найдено"
    page.screenshot(path=str(artifacts_dir / "not-found.png"), full_page=True)
