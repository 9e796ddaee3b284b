"""Knowledge-base factories. Articles are saved through ``article_save`` so the
rendered HTML, plain text and (on PostgreSQL) the search vector are always filled."""

import factory

from knowledge_base.models import Article, Category
from knowledge_base.services import article_save


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Раздел {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    position = factory.Sequence(lambda n: n)


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    title = factory.Sequence(lambda n: f"Статья номер {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    summary = "Краткое описание статьи."
    body = "Обычный текст статьи без особых слов."
    category = factory.SubFactory(CategoryFactory)
    status = Article.Status.PUBLISHED
    audience = Article.Audience.PUBLIC
    language = Article.Language.RU

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return article_save(article=model_class(*args, **kwargs))
