"""Browser run through the operator workspace on demo data: register a call, read the
number, answer a ticket; screenshots of the changelist, ticket page and call screen."""

import re

import pytest
from django.core.management import call_command

from tickets.models import CannedResponse, NumberSequence, Queue, Ticket
from tickets.numbering import COUNTER_NAME
from tickets.services import (
    contact_get_or_create,
    message_add_from_requester,
    message_add_reply,
    ticket_create,
    ticket_link,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(live_server):
    # A transactional test flushes the table the data migration filled.
    NumberSequence.objects.get_or_create(name=COUNTER_NAME)
    call_command("seed_demo", tickets=300, seed=7, verbosity=0)
    queue = Queue.objects.get(slug="navigator")
    from django.contrib.auth import get_user_model

    operator = get_user_model().objects.get(username="operator1")
    requester = contact_get_or_create(
        full_name="Петрова Мария Ивановна", email="maria.petrova@example.com", phone="+79161234567"
    )
    ticket = ticket_create(
        queue=queue,
        requester=requester,
        channel=Ticket.Channel.EMAIL,
        subject="Не приходит СМС-код при входе в личный кабинет",
        text="Здравствуйте! Третий день не могу войти в личный кабинет: СМС с кодом не "
        "приходит. Номер телефона в профиле верный.",
        auto_reply=False,
    )
    message_add_reply(
        ticket=ticket,
        author=operator,
        is_internal=True,
        text="Проверила журнал СМС-шлюза: сообщения уходят, оператор связи отвечает отказом.",
    )
    message_add_from_requester(
        ticket=ticket, text="Добавлю: на другой номер код приходит.", channel="email"
    )
    other = Ticket.objects.exclude(pk=ticket.pk).filter(queue=queue).order_by("-number").first()
    ticket_link(source=ticket, target=other, kind="related", actor=operator)
    CannedResponse.objects.create(
        title="Повторная отправка кода",
        body="Здравствуйте, {name}!\n\nПо обращению {number} мы повторно отправили код. "
        "Если он не придёт в течение 5 минут, ответьте на это письмо.\n\nС уважением, {operator}",
    )
    return ticket


@pytest.fixture
def page(browser, live_server, demo):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "operator1")
    page.fill("#id_password", "demo12345")
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def test_register_a_call_and_read_out_the_number(page, live_server, artifacts_dir):
    page.screenshot(path=str(artifacts_dir / "admin-index.png"), full_page=True)
    page.click("text=Зарегистрировать звонок")
    page.wait_for_selector("#call-q")
    assert page.evaluate("document.activeElement.id") == "call-q"
    page.fill("#call-q", "+7 999 000-11-22")
    page.press("#call-q", "Enter")
    page.wait_for_selector(".ws-empty")
    page.fill("#id_full_name", "Смирнов Олег Петрович")
    page.fill("#id_email", "oleg.smirnov@example.com")
    page.select_option("#id_queue", label="Сайт Навигатора")
    page.fill("#id_subject", "Не могу записать ребёнка в кружок")
    page.fill("#id_text", "Звонит родитель: при записи в кружок «Робототехника» ошибка 500.")
    page.screenshot(path=str(artifacts_dir / "admin-register-call.png"), full_page=True)
    page.click("text=Зарегистрировать обращение")

    number = page.locator("#ticket-number").inner_text()
    assert re.fullmatch(r"SP-\d{4,}", number)
    ticket = Ticket.objects.get(number=int(number.split("-")[1]))
    assert ticket.channel == "phone" and ticket.requester.phone == "+79990001122"
    page.screenshot(path=str(artifacts_dir / "admin-call-number.png"), full_page=True)


def test_reply_to_a_ticket_with_a_canned_answer(page, live_server, demo, artifacts_dir):
    page.goto(f"{live_server.url}/admin/tickets/ticket/")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() > 1
    page.screenshot(path=str(artifacts_dir / "admin-changelist.png"), full_page=False)

    page.fill("#searchbar", f"sp{demo.number}")
    page.press("#searchbar", "Enter")
    page.click(f"a.ws-number:text('{demo.reference}')")
    page.wait_for_selector("#reply-text")
    page.select_option("#ws-canned", label="Повторная отправка кода")
    assert page.input_value("#reply-text") == ""  # choosing only selects
    page.click("#ws-canned-insert")
    text = page.input_value("#reply-text")
    assert "Петрова Мария Ивановна" in text and demo.reference in text
    page.screenshot(path=str(artifacts_dir / "admin-ticket-page.png"), full_page=True)
    page.click("button[name=_send]")

    page.wait_for_selector(".ws-msg-operator:not(.ws-msg-internal)")
    assert "повторно отправили код" in page.locator(".ws-conversation").inner_text()
    page.screenshot(path=str(artifacts_dir / "admin-ticket-replied.png"), full_page=True)
    demo.refresh_from_db()
    assert demo.first_response_at is not None
    assert demo.status == Ticket.Status.OPEN


def test_the_ticket_list_fits_1366_px_without_scrolling_sideways(page, live_server, artifacts_dir):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/tickets/ticket/?show=all")
    page.wait_for_selector("#result_list")

    assert page.locator("#result_list tbody tr").count() == 100
    assert page.title().startswith("Обращения")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    results = page.locator(".results")
    assert results.evaluate("el => el.scrollWidth <= el.clientWidth")
    page.screenshot(path=str(artifacts_dir / "admin-changelist-1366.png"), full_page=False)


def test_arrow_keys_move_through_canned_answers_without_inserting_and_enter_inserts(
    page, live_server, demo, artifacts_dir
):
    # Issue 20: a closed <select> fires "change" on every arrow key; inserting on change
    # put each answer passed on the way into the reply (fixed like the chat console).
    page.goto(f"{live_server.url}/admin/tickets/ticket/{demo.pk}/change/")
    page.wait_for_selector("#reply-text")
    assert page.locator("#ws-canned option").count() >= 3
    page.focus("#ws-canned")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    # Passing answers on the way only selects them.
    assert page.input_value("#reply-text") == ""
    assert page.evaluate("document.activeElement.id") == "ws-canned"
    chosen = page.evaluate("document.getElementById('ws-canned').selectedOptions[0].dataset.text")
    assert chosen

    page.keyboard.press("Enter")  # down to 3, up to 2: the chosen one goes in
    assert page.input_value("#reply-text") == chosen
    assert page.evaluate("document.activeElement.id") == "reply-text"
    assert page.is_disabled("#ws-canned-insert")

    # The button inserts too (a mouse user picks, then presses Insert).
    page.select_option("#ws-canned", label="Повторная отправка кода")
    assert page.input_value("#reply-text") == chosen
    page.click("#ws-canned-insert")
    text = page.input_value("#reply-text")
    assert text.startswith(chosen + "\n") and demo.reference in text
    page.screenshot(path=str(artifacts_dir / "admin-ticket-canned-inserted.png"), full_page=True)
