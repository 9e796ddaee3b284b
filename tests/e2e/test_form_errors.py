"""Form errors in Chromium: the focus lands on the summary, its links move the focus to
the fields, the fields carry aria-invalid / aria-describedby, text fields turn red."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DANGER = "rgb(179, 38, 30)"  # --c-danger


@pytest.fixture
def browser(browser, queue):
    return browser


def _page(browser, width=1366, height=900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ru-RU")
    return context.new_page()


def _submit_without_contact(page, live_server):
    page.goto(f"{live_server.url}/appeal/")
    page.fill("#id_full_name", "Петрова Мария Ивановна")
    page.fill("#id_subject", "Не приходит СМС-код")
    page.check("#id_consent")
    page.click("button[type=submit].btn")
    page.wait_for_selector("#error-summary")


def test_focus_lands_on_the_error_summary(browser, live_server, artifacts_dir):
    page = _page(browser)
    _submit_without_contact(page, live_server)

    assert page.evaluate("document.activeElement.id") == "error-summary"
    page.screenshot(path=str(artifacts_dir / "form-errors-desktop.png"), full_page=False)


def test_summary_links_move_the_focus_to_the_fields(browser, live_server):
    page = _page(browser)
    _submit_without_contact(page, live_server)

    page.click("#error-summary a[href='#id_text']")
    assert page.evaluate("document.activeElement.id") == "id_text"

    page.focus("#error-summary")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_email"


def test_the_contact_error_marks_both_fields_and_is_listed_once(browser, live_server):
    page = _page(browser)
    _submit_without_contact(page, live_server)

    for name in ("email", "phone"):
        field = page.locator(f"#id_{name}")
        assert field.get_attribute("aria-invalid") == "true"
        assert f"id_{name}_error" in field.get_attribute("aria-describedby").split()
        assert page.locator(f"#id_{name}_error").is_visible()
    texts = page.locator("#error-summary li").all_inner_texts()
    assert sum("телефон" in text for text in texts) == 1


def test_text_fields_with_an_error_get_the_red_border(browser, live_server):
    page = _page(browser)
    _submit_without_contact(page, live_server)

    for selector in ("#id_email", "#id_text"):
        assert page.eval_on_selector(selector, "e => getComputedStyle(e).borderTopColor") == DANGER
    assert (
        page.eval_on_selector("#id_full_name", "e => getComputedStyle(e).borderTopColor") != DANGER
    )


def test_the_error_summary_on_a_phone(browser, live_server, artifacts_dir):
    page = _page(browser, width=390, height=844)
    _submit_without_contact(page, live_server)

    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(artifacts_dir / "form-errors-phone.png"), full_page=False)
    page.click("#error-summary a[href='#id_email']")
    page.screenshot(path=str(artifacts_dir / "form-errors-phone-field.png"), full_page=False)
