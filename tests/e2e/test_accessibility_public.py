"""Every public page, in Russian and in English, passes axe-core's WCAG 2.1 A/AA rules
(GOST R 52872-2019) and fits a 640 px viewport — 1280 px at 200 % zoom, decree No. 102 —
without sideways scrolling. Reports: artifacts/axe/public-<page>-<lang>.json."""

import pytest

from tests.e2e.axe import axe_violations
from tests.e2e.staff import LOCALES
from tests.knowledge_base.factories import ArticleFactory
from tests.tickets.admin_helpers import new_ticket
from tickets.services import message_add_reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def pages(queue, other_queue, operator):
    """The address of every public page, on a ticket with a conversation."""
    open_ticket = new_ticket(queue, phone="+79001234567")
    message_add_reply(ticket=open_ticket, author=operator, text="Здравствуйте! Проверяем.")
    resolved = new_ticket(queue, subject="Не открывается расписание")
    message_add_reply(ticket=resolved, author=operator, text="Исправлено.", resolve=True)
    article = ArticleFactory(title="Как восстановить пароль", body="Нажмите «Забыли пароль».")
    ArticleFactory(title="How to reset the password", language="en", category=article.category)
    number, token = open_ticket.reference, open_ticket.token
    return {
        "appeal": "/appeal/",
        "done": f"/appeal/done/{number}/?t={token}",
        "status": f"/appeal/{number}/?t={token}",
        "lookup": "/appeal/status/",
        "kb-index": "/kb/",
        "kb-category": f"/kb/category/{article.category.slug}/",
        "kb-article": f"/kb/{article.slug}/",
        "kb-search": "/kb/search/?q=пароль",
        "chat": "/chat/",
        "chat-widget": "/chat/?embed=1",
        "csat": f"/appeal/{resolved.reference}/feedback/?t={resolved.token}&solved=yes&rating=5",
        "not-found": "/appeal/SP-9999/?t=guess",
    }


def _open(browser, live_server, path, lang, width=1366):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=LOCALES[lang])
    page = context.new_page()
    page.goto(f"{live_server.url}{path}")
    assert page.get_attribute("html", "lang") == lang
    return page


@pytest.mark.parametrize("lang", LOCALES)
@pytest.mark.parametrize(
    "name",
    [
        "appeal",
        "done",
        "status",
        "lookup",
        "kb-index",
        "kb-category",
        "kb-article",
        "kb-search",
        "chat",
        "chat-widget",
        "csat",
        "not-found",
    ],
)
def test_public_page_has_no_wcag_violations(pages, browser, live_server, artifacts_dir, name, lang):
    page = _open(browser, live_server, pages[name], lang)

    assert axe_violations(page, artifacts_dir / "axe" / f"public-{name}-{lang}.json") == []


@pytest.mark.parametrize("lang", LOCALES)
def test_appeal_form_with_errors_has_no_wcag_violations(
    browser, live_server, pages, artifacts_dir, lang
):
    page = _open(browser, live_server, pages["appeal"], lang)
    page.click("button[type=submit].btn")
    page.wait_for_selector(".error-summary")

    assert axe_violations(page, artifacts_dir / "axe" / f"public-appeal-errors-{lang}.json") == []


@pytest.mark.parametrize(
    "name",
    ["appeal", "done", "status", "lookup", "kb-index", "kb-article", "kb-search", "chat", "csat"],
)
def test_public_page_at_200_percent_zoom_does_not_scroll_sideways(
    browser, live_server, pages, artifacts_dir, name
):
    page = _open(browser, live_server, pages[name], "ru", width=640)

    page.screenshot(path=str(artifacts_dir / f"zoom200-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 640
