"""The phone screen in Chromium: the department shows only with "hand to line 2"; after
a refused submit the cursor is in the field to fix (issue 20, item 11)."""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import QueueFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server):
    QueueFactory(name="Сайт Навигатора", slug="navigator")
    get_user_model().objects.create_superuser("boss", "boss@support.example", "pw-boss-12345")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/tickets/ticket/register-call/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", "pw-boss-12345")
    page.click("[type=submit]")
    page.wait_for_selector("#call-q")
    return page


def test_department_shows_only_while_hand_over_is_ticked(page):
    department = page.locator("[data-shown-by]")

    assert department.is_hidden()
    page.check("#id_escalate")
    assert department.is_visible()
    page.uncheck("#id_escalate")
    assert department.is_hidden()


def test_a_refused_hand_over_puts_the_cursor_in_the_e_mail_field(page, artifacts_dir):
    page.fill("#call-q", "Смирнов Олег")
    page.press("#call-q", "Enter")
    page.wait_for_selector(".ws-empty")
    assert page.input_value("#id_full_name") == "Смирнов Олег"

    page.select_option("#id_queue", label="Сайт Навигатора")
    page.fill("#id_text", "Просит передать специалистам.")
    page.check("#id_escalate")
    page.click("button:has-text('Зарегистрировать обращение')")
    page.wait_for_selector("#id_email[aria-invalid=true]")

    assert page.evaluate("document.activeElement.id") == "id_email"
    page.screenshot(path=str(artifacts_dir / "register-call-error.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir / "register-call-error-phone.png"), full_page=True)
