"""Call-back end to end in a real browser: a citizen ticks «Перезвоните мне», the entry
shows up in the operators' list (desktop and phone), the operator reveals the number and
records "no answer" three times: the entry closes and the citizen's mail is in the outbox."""

import pytest

from notifications.models import Notification
from tests.factories import UserFactory
from tickets.models import CallbackRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(browser, queue):
    # The queue exists before the first page load.
    return browser


def _page(browser, width=1366, height=900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU")
    return context.new_page()


def _sign_in(page, live_server, username):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", "secret-pass-123")
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def _no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_citizen_asks_for_a_call_back_and_the_operator_works_it(
    browser, live_server, artifacts_dir, settings
):
    settings.CALLBACK_MAX_ATTEMPTS = 3
    UserFactory(username="chief", is_staff=True, is_superuser=True)

    citizen = _page(browser)
    citizen.goto(f"{live_server.url}/appeal/")
    citizen.fill("#id_full_name", "Петрова Мария Ивановна")
    citizen.fill("#id_email", "maria@example.com")
    citizen.fill("#id_phone", "8 (912) 345-67-89")
    citizen.select_option("#id_queue", label="Сайт Навигатора")
    citizen.fill("#id_subject", "Не приходит СМС-код")
    citizen.fill("#id_text", "Третий день не приходит код подтверждения.")
    assert not citizen.is_visible("#id_callback_window")  # shown once the box is ticked
    citizen.check("#id_callback")
    citizen.select_option("#id_callback_day", value="tomorrow")
    citizen.select_option("#id_callback_window", value="evening")
    citizen.fill("#id_callback_reason", "Проще объяснить голосом")
    citizen.check("#id_consent")
    citizen.screenshot(path=str(artifacts_dir / "callback-form.png"), full_page=True)
    citizen.click("text=Отправить обращение")
    citizen.wait_for_selector(".callback-promise")
    promise = citizen.locator(".callback-promise").inner_text()
    assert "Мы перезвоним вам" in promise and "вечером" in promise
    citizen.screenshot(path=str(artifacts_dir / "callback-done.png"), full_page=True)
    callback = CallbackRequest.objects.get()

    operator = _page(browser)
    _sign_in(operator, live_server, "chief")
    tile = operator.locator("#ws-tile-callbacks")
    assert "Перезвонить" in tile.inner_text()
    tile.click()
    operator.wait_for_selector(f"#cb-{callback.pk}")
    assert "+79123456789" not in operator.content()
    operator.screenshot(path=str(artifacts_dir / "callback-list.png"), full_page=True)

    operator.click(f"#cb-{callback.pk} >> text=Показать номер и позвонить")
    call = operator.locator(f"#cb-{callback.pk} a.ws-cb-call")
    assert call.get_attribute("href") == "tel:+79123456789"

    for _ in range(3):
        operator.select_option(f"#outcome-{callback.pk}", value="no_answer")
        operator.click(f"#cb-{callback.pk} >> text=Записать")
        operator.wait_for_selector(".messagelist")

    callback.refresh_from_db()
    assert callback.closed_at is not None and callback.attempts == 3
    assert Notification.objects.filter(
        template="callback_failed", recipient="maria@example.com"
    ).exists()
    assert operator.locator(f"#cb-{callback.pk}").count() == 0


def test_callback_list_fits_a_phone_screen(browser, live_server, artifacts_dir, queue):
    from tests.tickets.admin_helpers import new_ticket
    from tickets.services import CallbackWish, callback_request

    UserFactory(username="chief", is_staff=True, is_superuser=True)
    for i in range(3):
        ticket = new_ticket(
            queue,
            email=f"citizen{i}@example.com",
            subject="Очень длинная тема обращения про запись в кружок робототехники " * 2,
        )
        callback_request(
            ticket=ticket,
            wish=CallbackWish(
                phone=f"+7912345670{i}", day="tomorrow", window="morning", reason="Перезвонить"
            ),
            source=CallbackRequest.Source.WEB,
        )

    page = _page(browser, 390, 844)
    _sign_in(page, live_server, "chief")
    page.goto(f"{live_server.url}/admin/tickets/callbackrequest/")
    page.wait_for_selector(".ws-cb")
    page.screenshot(path=str(artifacts_dir / "callback-list-phone.png"), full_page=True)
    assert _no_sideways_scroll(page)
    first = CallbackRequest.objects.order_by("due_at", "id").first()
    page.click(f"#cb-{first.pk} >> text=Показать номер и позвонить")
    page.wait_for_selector("a.ws-cb-call")
    page.screenshot(path=str(artifacts_dir / "callback-list-phone-revealed.png"), full_page=True)
    assert _no_sideways_scroll(page)


def test_a_missed_call_over_the_webhook_shows_on_the_list_and_the_ticket_page(
    browser, live_server, artifacts_dir, settings, queue
):
    import json
    import time
    import urllib.request

    from telephony.signing import cti_signature

    settings.CTI_SECRET = "e2e-cti-secret"
    UserFactory(username="chief", is_staff=True, is_superuser=True)
    call = {"callId": "e2e-1", "direction": "in", "from": "8 912 345-67-89", "to": "100"}
    for event in ("newCall", "hangup"):
        body = json.dumps({"event": event, **call, "cause": "cancel"}).encode()
        ts = str(int(time.time()))
        request = urllib.request.Request(
            f"{live_server.url}/telephony/cti/",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-CTI-Timestamp": ts,
                "X-CTI-Signature": cti_signature(secret="e2e-cti-secret", timestamp=ts, body=body),
            },
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
    callback = CallbackRequest.objects.get()

    for name, size in (("desktop", (1366, 900)), ("phone", (390, 844))):
        page = _page(browser, *size)
        _sign_in(page, live_server, "chief")
        page.goto(f"{live_server.url}/admin/tickets/ticket/{callback.ticket_id}/change/")
        page.wait_for_selector("#ws-panel-calls")
        assert page.locator("#ws-panel-callbacks").count() == 1
        page.screenshot(path=str(artifacts_dir / f"ticket-call-panels-{name}.png"), full_page=True)
