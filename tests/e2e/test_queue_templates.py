"""Browser check of a queue's mail templates in the admin: the live preview follows typing."""

import pytest
from playwright.sync_api import expect

from tests.factories import QueueFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_queue_template_preview_follows_what_the_admin_types(browser, live_server, artifacts_dir):
    queue = QueueFactory(name="Сайт Навигатора", slug="navigator")
    UserFactory(username="chief", is_staff=True, is_superuser=True)
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU").new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/tickets/queue/{queue.pk}/change/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", "secret-pass-123")
    page.click("[type=submit]")

    page.fill("#id_auto_reply_subject", "Обращение {{ number }} принято")
    page.fill("#id_auto_reply_text", "{{ name }}, ответим {{ due }}.")

    # Each keystroke asks again; the preview settles on the last answer.
    expect(page.locator(".ws-preview[data-template=auto_reply] pre")).to_have_text(
        "Обращение SP-0042 принято\n\nМария Ивановна, ответим до 18:00 пятницы, 5 декабря (МСК)."
    )
    page.locator("fieldset.ws-mail-template").first.screenshot(
        path=str(artifacts_dir / "queue-templates.png")
    )
