"""articles_search / articles_suggest: the one search every caller uses."""

import pytest
from django.db import connection

from knowledge_base.models import Article
from knowledge_base.selectors import articles_search, articles_suggest, stem
from tests.knowledge_base.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def password_article():
    return ArticleFactory(
        title="Как восстановить пароль",
        slug="password-recovery",
        summary="Восстановление доступа к личному кабинету.",
        body="Нажмите «Забыли пароль?» и следуйте инструкции в письме.",
    )


def _titles(page):
    return [hit.title for hit in page.results]


def test_inflected_query_finds_base_form(password_article):
    page = articles_search("пароля")

    assert _titles(page) == ["Как восстановить пароль"]


def test_inflected_title_word_is_found_by_other_forms():
    ArticleFactory(title="Загрузка документов", body="Форматы файлов: PDF, JPG.")

    assert _titles(articles_search("загрузить документ")) == ["Загрузка документов"]


def test_title_hit_ranks_before_summary_and_body_hits():
    ArticleFactory(title="Режим работы", body="Кэш браузера тоже иногда мешает.", slug="body")
    ArticleFactory(title="Сроки ответа", summary="Про кэш и cookie.", slug="summary")
    ArticleFactory(title="Как очистить кэш браузера", body="Инструкция.", slug="title")

    assert [hit.slug for hit in articles_search("кэш").results] == ["title", "summary", "body"]


def test_typo_in_query_still_finds_title(password_article):
    page = articles_search("пароьл")

    assert page.method == "typo"
    assert _titles(page) == ["Как восстановить пароль"]


def test_staff_only_articles_are_hidden_from_public(password_article):
    ArticleFactory(title="Инструкция оператора: пароль", audience=Article.Audience.STAFF)

    assert _titles(articles_search("пароль")) == ["Как восстановить пароль"]


def test_staff_sees_public_and_staff_only_articles(password_article):
    ArticleFactory(title="Инструкция оператора: пароль", audience=Article.Audience.STAFF)

    assert sorted(_titles(articles_search("пароль", audience="staff"))) == [
        "Инструкция оператора: пароль",
        "Как восстановить пароль",
    ]


def test_drafts_are_hidden_from_everyone(password_article):
    ArticleFactory(title="Черновик про пароль", status=Article.Status.DRAFT)

    assert _titles(articles_search("пароль", audience="public")) == ["Как восстановить пароль"]
    assert _titles(articles_search("пароль", audience="staff")) == ["Как восстановить пароль"]


def test_language_filter_keeps_only_that_language(password_article):
    ArticleFactory(title="How to reset a password", language=Article.Language.EN, body="Reset.")

    assert _titles(articles_search("password", language="en")) == ["How to reset a password"]
    assert articles_search("password", language="ru").total == 0


def test_html_in_query_is_harmless_and_escaped(password_article):
    page = articles_search('<script>alert("x")</script> пароль')

    assert _titles(page) == ["Как восстановить пароль"]
    assert "<script" not in page.results[0].snippet


def test_html_in_article_text_is_escaped_in_snippet():
    ArticleFactory(
        title="Коды подтверждения",
        body="Введите код в поле `<b>код</b>` и нажмите кнопку.",
    )

    snippet = articles_search("код").results[0].snippet

    assert "<mark>" in snippet
    # The only markup in a snippet is our own highlighting.
    assert "<" not in snippet.replace("<mark>", "").replace("</mark>", "")


@pytest.mark.parametrize(
    "query",
    ["%", "_", "'", "\\", "' OR 1=1 --", "пароль' OR '1'='1", '"пароль', "пароль -", "a & b | !c"],
)
def test_sql_and_search_syntax_characters_do_not_break_search(password_article, query):
    page = articles_search(query)

    assert page.total == len(page.results) <= 1


def test_special_characters_do_not_match_everything(password_article):
    assert articles_search("%").total == 0
    assert articles_search("_").total == 0


def test_empty_query_returns_empty_page(password_article):
    page = articles_search("   ")

    assert (page.total, page.results, page.method) == (0, [], "none")


def test_snippet_highlights_matched_word(password_article):
    snippet = articles_search("пароль").results[0].snippet

    assert "<mark>пароль</mark>" in snippet


def test_paging_splits_results_and_reports_total():
    for n in range(7):
        ArticleFactory(title=f"Документы, вопрос {n}", slug=f"docs-{n}")

    first = articles_search("документы", limit=5)
    second = articles_search("документы", limit=5, offset=5)

    assert (first.total, len(first.results), first.has_next, first.has_previous) == (
        7,
        5,
        True,
        False,
    )
    assert (len(second.results), second.has_next, second.has_previous) == (2, False, True)
    assert {h.slug for h in first.results}.isdisjoint({h.slug for h in second.results})


def test_suggest_returns_title_url_and_summary(password_article):
    [item] = articles_suggest("забыл пароль")

    assert item["title"] == "Как восстановить пароль"
    assert item["url"] == "/kb/password-recovery/"
    assert item["summary"] == "Восстановление доступа к личному кабинету."
    assert "body" not in item


def test_suggest_for_staff_carries_markdown_to_insert_into_reply(password_article):
    [item] = articles_suggest("забыл пароль", audience="staff")

    assert "Забыли пароль" in item["body"]
    assert item["absolute_url"].endswith("/kb/password-recovery/")


def test_suggest_for_staff_includes_staff_only_articles(password_article):
    ArticleFactory(title="Пароль: инструкция оператора", audience=Article.Audience.STAFF)

    titles = [item["title"] for item in articles_suggest("пароль", audience="staff")]

    assert "Пароль: инструкция оператора" in titles
    assert [i["title"] for i in articles_suggest("пароль")] == ["Как восстановить пароль"]


def test_suggest_respects_limit():
    for n in range(8):
        ArticleFactory(title=f"Пароль и вход, случай {n}")

    assert len(articles_suggest("пароль", limit=5)) == 5


def test_unknown_audience_is_rejected():
    with pytest.raises(ValueError):
        articles_search("пароль", audience="everyone")


def test_crude_stemmer_strips_common_endings():
    assert stem("пароля") == stem("пароль") == stem("паролем")
    assert stem("документов") == stem("документы")


@pytest.mark.postgres
def test_postgres_search_vector_follows_edits(password_article):
    from knowledge_base.services import article_save

    password_article.title = "Как сменить логин"
    article_save(article=password_article)

    assert articles_search("логина").total == 1
    assert articles_search("восстановить").total == 0


@pytest.mark.postgres
def test_postgres_falls_back_to_any_word_when_not_all_words_match(password_article):
    page = articles_search("забыл пароль от госуслуг")

    assert page.method == "any-word"
    assert _titles(page) == ["Как восстановить пароль"]


@pytest.mark.postgres
def test_postgres_search_indexes_exist():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'knowledge_base_%%'")
        names = {row[0] for row in cursor.fetchall()}

    assert {
        "kb_article_search_gin",
        "kb_article_public_search_gin",
        "kb_head_gin",
        "kb_head_public_gin",
        "kb_head_popular_idx",
        "kb_searchterm_word_trgm",
    } <= names


@pytest.mark.postgres
def test_postgres_yo_and_ye_are_the_same_letter():
    ArticleFactory(title="Активация учётной записи", body="Текст.")

    assert articles_search("учетная запись").total == 1


@pytest.mark.postgres
def test_postgres_typo_is_corrected_against_title_words(password_article):
    from knowledge_base.models import SearchTerm

    page = articles_search("как востановить пароьл")

    assert SearchTerm.objects.filter(word="пароль").exists()
    assert (page.method, _titles(page)) == ("typo", ["Как восстановить пароль"])
    assert page.query == "как востановить пароьл"


@pytest.mark.postgres
def test_postgres_stemming_matches_across_cases_of_a_word():
    ArticleFactory(title="Персональные данные", body="Обработка персональных данных по закону.")

    assert articles_search("персональными данными").total == 1


@pytest.mark.postgres
def test_postgres_broad_query_reports_capped_total(monkeypatch):
    from knowledge_base.selectors import search_postgres

    monkeypatch.setattr(search_postgres, "COUNT_CAP", 3)
    for n in range(5):
        ArticleFactory(title=f"Пароль, случай {n}")

    page = articles_search("пароль", limit=4)

    assert (page.total, page.total_is_lower_bound, len(page.results)) == (4, True, 4)
    assert page.has_next


@pytest.mark.postgres
def test_postgres_text_only_hits_follow_title_hits_by_popularity():
    ArticleFactory(title="Сроки", body="Про пароль в тексте.", slug="rare", view_count=1)
    ArticleFactory(title="Режим", body="И тут пароль в тексте.", slug="popular", view_count=50)
    ArticleFactory(title="Пароль", slug="title", view_count=0)

    assert [h.slug for h in articles_search("пароль").results] == ["title", "popular", "rare"]


@pytest.mark.postgres
def test_postgres_text_hits_with_more_query_words_in_title_come_first():
    ArticleFactory(title="Режим работы", body="Забыли пароль? Бывает.", slug="other", view_count=90)
    ArticleFactory(
        title="Как восстановить пароль", body="Нажмите «Забыли пароль?».", slug="password"
    )

    assert [h.slug for h in articles_search("забыл пароль").results] == ["password", "other"]


def _corpus_for_tiers():
    """Title hits, a summary hit, text-only hits with one of the words in the title, and
    text-only hits with none, with view counts that disagree with the rank order."""
    rows = [
        ("title-both", "Забыли пароль: что делать", "", "Текст.", 1),
        ("title-one", "Пароль от кабинета", "", "Забыли пароль? Нажмите ссылку.", 5),
        ("summary-one", "Вход в кабинет", "Как сменить пароль.", "Забыли пароль? Бывает.", 9),
        ("text-popular", "Режим работы", "", "Если забыли пароль, позвоните нам.", 80),
        ("text-rare", "Сроки ответа", "", "Забыли пароль — восстановите его.", 3),
        ("title-no-text", "Пароль и логин", "", "Ничего про это.", 50),
        ("other", "Очистка кэша", "", "Совсем другое.", 99),
    ]
    for slug, title, summary, body, views in rows:
        ArticleFactory(slug=slug, title=title, summary=summary, body=body, view_count=views)


def _pages(query, *, audience="public"):
    return [
        [h.slug for h in articles_search(query, audience=audience, limit=2, offset=o).results]
        for o in (0, 2, 4, 6)
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("query", ["забыл пароль", "пароль", "забыли"])
def test_postgres_broad_query_pages_like_the_exact_ranking(monkeypatch, query):
    """Past ``COUNT_CAP`` matches, hits are found tier by tier (walking by views); the
    order and the pages must be those of ranking every match at once."""
    from knowledge_base.selectors import search_postgres

    _corpus_for_tiers()
    exact = _pages(query)
    monkeypatch.setattr(search_postgres, "COUNT_CAP", 1)

    assert _pages(query) == exact
    assert _pages(query, audience="staff") == exact


@pytest.mark.postgres
def test_postgres_exact_ranking_puts_title_words_before_popularity():
    _corpus_for_tiers()

    assert _pages("забыл пароль") == [
        ["title-both", "title-one"],
        ["summary-one", "text-popular"],
        ["text-rare"],
        [],
    ]


@pytest.mark.postgres
def test_postgres_too_common_title_words_leave_text_hits_by_popularity(monkeypatch):
    from knowledge_base.selectors import search_postgres

    _corpus_for_tiers()
    monkeypatch.setattr(search_postgres, "COUNT_CAP", 1)
    monkeypatch.setattr(search_postgres, "RANK_CAP", -1)

    assert _pages("забыл пароль")[:3] == [
        ["title-both", "text-popular"],
        ["summary-one", "title-one"],
        ["text-rare"],
    ]


@pytest.mark.postgres
def test_postgres_suggestions_follow_the_search_order(monkeypatch):
    from knowledge_base.selectors import search_postgres

    _corpus_for_tiers()
    monkeypatch.setattr(search_postgres, "COUNT_CAP", 1)

    assert [i["url"] for i in articles_suggest("забыл пароль", limit=4)] == [
        f"/kb/{slug}/" for slug in ("title-both", "title-one", "summary-one", "text-popular")
    ]
