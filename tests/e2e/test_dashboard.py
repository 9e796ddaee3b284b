"""Browser check of the supervisor dashboard on demo data, with a screenshot to look at."""

import pytest
from django.core.management import call_command

from tests.factories import UserFactory
from tickets.models import NumberSequence
from tickets.numbering import COUNTER_NAME

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def logged_in_page(browser, live_server, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    # A transactional test flushes the table the data migration filled.
    NumberSequence.objects.get_or_create(name=COUNTER_NAME)
    call_command("seed_demo", tickets=1500, seed=42, verbosity=0)
    UserFactory(username="chief", is_superuser=True, first_name="Вера", last_name="Начальникова")
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="ru-RU")
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/dashboard/")
    page.fill("#id_username", "chief")
    page.fill("#id_password", "secret-pass-123")
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server.url}/dashboard/")
    return page


def test_dashboard_shows_figures_and_charts_on_demo_data(
    logged_in_page, live_server, artifacts_dir
):
    page = logged_in_page
    page.goto(f"{live_server.url}/dashboard/?period=30d")
    assert page.locator("h1").inner_text() == "Панель SLA"
    # 19: the chat section has two, the wait and the rating (chat/dashboard.py); the
    # regulations add «перенаправлено» and «просрочено отделами»
    assert page.locator("section.dash-tiles .tile").count() == 19
    assert page.locator("[data-panel=phone] .tile").count() == 4  # telephony's panel
    assert page.locator("svg.chart").count() == 7
    assert page.locator("[data-tile=open] .tile__value").inner_text().isdigit()
    page.screenshot(path=str(artifacts_dir / "dashboard.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / "dashboard-phone.png"), full_page=True)


def test_dashboard_refreshes_without_reloading(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/dashboard/?period=7d")
    page.evaluate("document.querySelector('[data-tile=open] .tile__value').textContent = 'x'")
    phone = "[data-panel=phone] [data-tile=phone_inbound] .tile__value"
    page.evaluate(f"document.querySelector('{phone}').textContent = 'x'")
    # The page's timer fires every minute; fire the same refresh now.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_function(
        "document.querySelector('[data-tile=open] .tile__value').textContent !== 'x'"
    )
    # Telephony's panel comes back with the refresh too, whole, CSV link included.
    page.wait_for_function(f"document.querySelector('{phone}').textContent !== 'x'")
    assert (
        page.locator("[data-panel=phone] a.dash-csv")
        .get_attribute("href")
        .startswith("/dashboard/export/phone.csv?")
    )
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_custom_period_fields_appear_when_chosen(logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/dashboard/")
    assert not page.locator("#id_from").is_visible()
    page.select_option("#id_period", "custom")
    assert page.locator("#id_from").is_visible()
    page.fill("#id_from", "2026-01-01")
    page.fill("#id_to", "2026-01-31")
    page.click(".dash-button")
    page.wait_for_url("**period=custom**")
    assert "2026" in page.locator(".dash-period").inner_text()
