"""The regulation forms in Chromium at 1366 px and on a phone (390 px): the escalation
checklist and the department deadline (seed 002 §3.7, seed 003), «не по компетенции»
(seed 002 §3.8), and the phone screen's channel back (seed 002 §1.12)."""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import QueueFactory
from tests.tickets.admin_helpers import make_group, new_ticket
from tickets.models import DepartmentDeadline
from tickets.services import ticket_escalate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def signed_in(browser, live_server):
    get_user_model().objects.create_superuser("boss", "boss@support.example", "pw-boss-12345")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-12345")
    page.click("[type=submit]")
    page.wait_for_selector("#content")
    return page


def _fits_the_phone(page) -> bool:
    page.set_viewport_size(PHONE)
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_escalation_form_offers_the_checklist_and_redirect_asks_where_and_what(
    signed_in, live_server, artifacts_dir
):
    page = signed_in
    queue = QueueFactory(name="Сайт Навигатора", slug="navigator")
    make_group("Отдел расчётов")
    ticket = new_ticket(queue, subject="Неверно начислена плата")
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")
    page.click("#redirect summary")

    assert page.locator(".ws-checklist input[type=checkbox]").count() == 5
    page.click("button:has-text('Передать')")  # no note: refused, nothing handed over
    page.wait_for_selector("text=Напишите комментарий для второй линии")
    page.click("#redirect summary")
    page.click("button:has-text('Перенаправить и решить')")  # the browser asks for both
    assert page.evaluate("document.querySelector('#redirect_where').validity.valueMissing")
    page.screenshot(path=str(artifacts_dir / "regulations-ticket.png"), full_page=True)
    assert _fits_the_phone(page)
    page.screenshot(path=str(artifacts_dir / "regulations-ticket-phone.png"), full_page=True)


def test_escalated_ticket_shows_the_department_deadline(signed_in, live_server, artifacts_dir):
    page = signed_in
    queue = QueueFactory(name="Сайт Навигатора", slug="navigator")
    billing = make_group("Отдел расчётов")
    DepartmentDeadline.objects.create(group=billing, hours=16)
    ticket = ticket_escalate(
        ticket=new_ticket(queue), group=billing, note="Нужен перерасчёт.", checklist=["essence"]
    )
    page.goto(f"{live_server.url}/admin/tickets/ticket/{ticket.pk}/change/")

    assert "Отдел расчётов: осталось 15 ч" in page.inner_text(".ws-head-meta")
    page.screenshot(path=str(artifacts_dir / "regulations-department.png"), full_page=True)
    assert _fits_the_phone(page)
    page.screenshot(path=str(artifacts_dir / "regulations-department-phone.png"), full_page=True)


def test_phone_screen_refuses_an_open_call_without_a_channel_back(
    signed_in, live_server, artifacts_dir
):
    page = signed_in
    QueueFactory(name="Сайт Навигатора", slug="navigator")
    page.goto(f"{live_server.url}/admin/tickets/ticket/register-call/?q=Смирнов")
    page.select_option("#id_queue", label="Сайт Навигатора")
    page.fill("#id_phone", "+79031112233")
    page.fill("#id_text", "Спрашивает про сроки, ответ будет позже.")
    page.click("button:has-text('Зарегистрировать обращение')")
    page.wait_for_selector("#id_email[aria-invalid=true]")

    assert "список обратных звонков" in page.inner_text("#call-form")
    page.screenshot(path=str(artifacts_dir / "regulations-call.png"), full_page=True)
    assert _fits_the_phone(page)
    page.screenshot(path=str(artifacts_dir / "regulations-call-phone.png"), full_page=True)
    page.check("#id_callback")
    page.click("button:has-text('Зарегистрировать обращение')")
    page.wait_for_selector("#ticket-number")
