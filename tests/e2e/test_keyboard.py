"""Without a mouse: a citizen files an appeal and an operator answers a ticket with the
keyboard alone (Tab, typing, Space, Enter), and the focus can be seen where it is."""

import pytest

from tests.e2e.keyboard import focus_is_visible, tab_to
from tests.e2e.staff import signed_in_page
from tickets.models import Message, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _type_into(page, selector: str, text: str) -> None:
    tab_to(page, selector)
    assert focus_is_visible(page), f"no focus indicator on {selector}"
    page.keyboard.type(text)


def test_citizen_files_an_appeal_with_the_keyboard_only(
    queue, other_queue, browser, live_server, artifacts_dir
):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_server.url}/appeal/")

    _type_into(page, "#id_full_name", "Петрова Мария Ивановна")
    _type_into(page, "#id_email", "maria@example.com")
    tab_to(page, "#id_queue")
    page.keyboard.press("ArrowDown")  # the first service after "— choose —"
    _type_into(page, "#id_subject", "Не приходит СМС-код")
    _type_into(page, "#id_text", "Третий день не приходит код подтверждения.")
    tab_to(page, "#id_consent")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit].btn")
    assert focus_is_visible(page)
    page.screenshot(path=str(artifacts_dir / "keyboard-appeal.png"))
    page.keyboard.press("Enter")

    page.wait_for_url("**/appeal/done/**")
    ticket = Ticket.objects.get()
    assert ticket.requester.email == "maria@example.com" and ticket.queue == queue


def test_operator_answers_a_ticket_with_the_keyboard_only(
    demo_ticket, browser, live_server, artifacts_dir
):
    page = signed_in_page(browser, live_server.url, "operator1")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{demo_ticket.pk}/change/")

    _type_into(page, "#reply-text", "Здравствуйте! Код отправлен повторно.")
    tab_to(page, "button[name=_send]")
    assert focus_is_visible(page)
    page.screenshot(path=str(artifacts_dir / "keyboard-answer.png"))
    page.keyboard.press("Enter")

    page.wait_for_selector(".ws-conversation :text('Код отправлен повторно')")
    assert Message.objects.filter(
        ticket=demo_ticket, text__contains="Код отправлен повторно"
    ).exists()
