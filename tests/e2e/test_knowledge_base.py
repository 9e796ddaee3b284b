"""Browser checks of the public knowledge base: screenshots and live suggestions."""

import pytest

from knowledge_base.demo import seed_articles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def seeded(translations):
    # Database work happens before Playwright starts: its sync API runs an event loop
    # in this thread, and Django refuses ORM calls from inside one.
    seed_articles()


@pytest.fixture
def page(seeded, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ru-RU")
    return context.new_page()


def test_kb_index_screenshot(live_server, page, artifacts_dir):

    page.goto(f"{live_server.url}/kb/")

    assert page.locator("h1").inner_text() == "База знаний"
    assert page.locator(".kb-category").count() >= 4
    page.screenshot(path=str(artifacts_dir / "kb-index.png"), full_page=True)


def test_kb_article_screenshot_and_vote(live_server, page, artifacts_dir):

    page.goto(f"{live_server.url}/kb/browser-cache/")
    page.get_by_role("button", name="Да").click()

    assert page.locator(".kb-helpful__thanks").inner_text() == "Спасибо за ответ!"
    assert "Помогла 1 из 1" in page.locator(".kb-helpful__stats").inner_text()
    page.screenshot(path=str(artifacts_dir / "kb-article.png"), full_page=True)


def test_kb_search_screenshot(live_server, page, artifacts_dir):

    page.goto(f"{live_server.url}/kb/search/?q=пароль")

    assert page.locator(".kb-result mark").count() >= 1
    page.screenshot(path=str(artifacts_dir / "kb-search.png"), full_page=True)


def test_suggestions_appear_while_typing(live_server, page, artifacts_dir):
    page.goto(f"{live_server.url}/kb/")

    page.locator("#kb-q").press_sequentially("не приходит смс", delay=20)

    suggestions = page.locator("#kb-suggestions")
    suggestions.locator("a").first.wait_for()
    assert "Возможно, ответ уже есть:" in suggestions.inner_text()
    assert "Не приходит SMS с кодом подтверждения" in suggestions.inner_text()
    page.screenshot(path=str(artifacts_dir / "kb-suggest.png"))

    page.locator("#kb-q").fill("")
    page.locator("#kb-q").press("Space")
    page.wait_for_function("document.getElementById('kb-suggestions').hidden === true")
