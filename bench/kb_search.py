#!/usr/bin/env python
"""Knowledge-base search benchmark: N articles (default 50,000), search and suggestion
latency over realistic citizen queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_kb_bench .venv/bin/python bench/kb_search.py
    .venv/bin/python bench/kb_search.py --articles 5000        # SQLite fallback, smaller

Seeds once (articles with slug prefix ``bench-``; ``--reseed`` starts over), then prints
p50/p95/p99 of ``articles_search`` (the selector every caller uses) and of the
``/kb/suggest/`` endpoint through Django's test client, without and with the cache.
On PostgreSQL it also prints load-independent figures per operation: SQL statements,
shared buffers touched (EXPLAIN ANALYZE BUFFERS of every statement of one round) and
the client's CPU time. Targets (issue 7): search p95 < 30 ms on PostgreSQL,
suggestions p95 < 20 ms (cache cleared before each request).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from knowledge_base.demo import ARTICLES  # noqa: E402
from knowledge_base.models import Article, Category  # noqa: E402
from knowledge_base.selectors import articles_search  # noqa: E402
from knowledge_base.services import articles_bulk_create  # noqa: E402

QUERIES = [
    "пароль",
    "забыл пароль",
    "как восстановить пароль от личного кабинета",
    "не приходит смс",
    "не приходит код подтверждения",
    "смс код",
    "регистрация",
    "активировать учетную запись",
    "подтверждение почты",
    "ошибка при заполнении заявления",
    "кнопка отправить не нажимается",
    "загрузить документы",
    "размер файла",
    "формат pdf",
    "статус заявления",
    "причина отказа",
    "отказали в услуге",
    "очистить кэш",
    "очистка кеша яндекс браузер",
    "chrome cookie",
    "сайт не открывается",
    "персональные данные",
    "152-фз",
    "номер обращения потерялся",
    "сроки ответа",
    "режим работы",
    "жалоба на оператора",
    "предложение",
    "обратный звонок",
    "перезвоните мне",
    # typos: the trigram fallback
    "пароьл",
    "рнгистрация",
    "обратны звонок",
]

TOPICS = [
    ("пароль", ["восстановление пароля", "смена пароля", "блокировка после неверного пароля"]),
    (
        "регистрация",
        ["регистрация учётной записи", "активация учётной записи", "подтверждение почты"],
    ),
    ("SMS", ["код из SMS", "повторная отправка кода", "SMS в роуминге"]),
    ("заявление", ["заполнение заявления", "черновик заявления", "исправление заявления"]),
    ("документы", ["загрузка документов", "формат файлов", "размер файла"]),
    ("статус", ["статус заявления", "причина отказа", "повторная подача"]),
    ("браузер", ["очистка кэша", "файлы cookie", "режим инкогнито"]),
    ("данные", ["персональные данные", "согласие на обработку", "удаление данных"]),
    ("обращение", ["номер обращения", "сроки ответа", "дополнение обращения"]),
    ("звонок", ["обратный звонок", "режим работы", "очередь на линии"]),
]
SERVICES = [
    "детский сад", "запись к врачу", "загранпаспорт", "пособие", "налоговый вычет",
    "регистрация автомобиля", "выписка из реестра", "справка о несудимости",
    "лицензия", "субсидия", "путёвка в лагерь", "кружки и секции", "бронирование",
    "электронная очередь", "единый портал", "мобильное приложение",
]  # fmt: skip


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def report(name: str, samples: list[float]) -> None:
    print(
        f"{name:<44} n={len(samples):<5} p50={percentile(samples, 50):7.2f} ms  "
        f"p95={percentile(samples, 95):7.2f} ms  p99={percentile(samples, 99):7.2f} ms  "
        f"max={max(samples):7.2f} ms  mean={statistics.fmean(samples):6.2f} ms"
    )


def seed(total: int, rng: random.Random) -> None:
    existing = Article.objects.filter(slug__startswith="bench-").count()
    if existing >= total:
        print(f"seed: {existing} bench articles already there")
        return
    categories = [
        Category.objects.get_or_create(
            slug=f"bench-{n}", defaults={"name": f"Раздел {n}", "position": 100 + n}
        )[0]
        for n in range(12)
    ]
    bodies = [body for *_, body in ARTICLES]
    sentences = [s.strip() for body in bodies for s in body.replace("\n", " ").split(". ") if s]
    started = time.perf_counter()
    batch: list[Article] = []
    for n in range(existing, total):
        word, phrases = rng.choice(TOPICS)
        phrase = rng.choice(phrases)
        service = rng.choice(SERVICES)
        body = "\n\n".join(
            [
                f"## {phrase.capitalize()}: {service}",
                " ".join(rng.sample(sentences, 4)) + ".",
                "\n".join(f"{i}. {rng.choice(sentences)}." for i in range(1, 5)),
                " ".join(rng.sample(sentences, 3)) + ".",
            ]
        )
        batch.append(
            Article(
                slug=f"bench-{n}",
                title=f"{phrase.capitalize()} — {service} (№ {n})",
                summary=f"Коротко о теме «{phrase}» для услуги «{service}».",
                body=body,
                category=rng.choice(categories),
                status=Article.Status.PUBLISHED if rng.random() < 0.9 else Article.Status.DRAFT,
                audience=Article.Audience.PUBLIC if rng.random() < 0.85 else Article.Audience.STAFF,
                view_count=rng.randint(0, 5000),
            )
        )
        if len(batch) == 1000:
            articles_bulk_create(articles=batch)
            batch = []
            done = n + 1 - existing
            rate = done / (time.perf_counter() - started)
            print(f"seed: {n + 1}/{total} articles ({rate:.0f}/s)", flush=True)
    if batch:
        articles_bulk_create(articles=batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE knowledge_base_article")
            cursor.execute("VACUUM ANALYZE knowledge_base_articlehead")
    print(f"seed: done in {time.perf_counter() - started:.1f} s")


def bench_search(rounds: int) -> list[float]:
    samples = []
    methods: dict[str, int] = {}
    for _ in range(rounds):
        for query in QUERIES:
            t0 = time.perf_counter()
            page = articles_search(query, audience="public", limit=10)
            samples.append((time.perf_counter() - t0) * 1000)
            methods[page.method] = methods.get(page.method, 0) + 1
    print(f"  search methods used: {methods}")
    return samples


def bench_search_staff_page2(rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for query in QUERIES:
            t0 = time.perf_counter()
            articles_search(query, audience="staff", limit=10, offset=10)
            samples.append((time.perf_counter() - t0) * 1000)
    return samples


def bench_suggest(rounds: int, *, cached: bool) -> list[float]:
    client = Client()
    samples = []
    if cached:
        for query in QUERIES:
            client.get("/kb/suggest/", {"q": query})
    for _ in range(rounds):
        for query in QUERIES:
            if not cached:
                cache.clear()
            t0 = time.perf_counter()
            response = client.get("/kb/suggest/", {"q": query})
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
            assert len(response.json()["results"]) <= 5
    return samples


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def costs(name: str, operation) -> None:
    """Statements, shared buffers and client CPU per operation over one round of the
    queries: figures that do not depend on what else the machine is doing."""
    statements: list[tuple[str, object]] = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    cpu = time.process_time()
    with connection.execute_wrapper(capture):
        for query in QUERIES:
            operation(query)
    cpu = (time.process_time() - cpu) * 1000 / len(QUERIES)
    buffers = 0
    with connection.cursor() as cursor:
        for sql, params in statements:
            if sql.startswith("EXPLAIN"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            node = plan[0]["Plan"]
            buffers += node.get("Shared Hit Blocks", 0) + node.get("Shared Read Blocks", 0)
    print(
        f"{name:<44} statements/op={len(statements) / len(QUERIES):4.1f}  "
        f"buffers/op={buffers / len(QUERIES):6.0f}  client CPU/op={cpu:5.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    call_command("migrate", verbosity=0)
    if args.reseed:
        deleted, _ = Article.objects.filter(slug__startswith="bench-").delete()
        print(f"seed: removed {deleted} rows")
    seed(args.articles, random.Random(args.seed))
    total = Article.objects.count()
    visible = Article.objects.filter(status="published", audience="public").count()
    print(f"articles: {total} ({visible} published public)")

    # Warm-up: connection, plan caches, OS page cache.
    for query in QUERIES:
        articles_search(query)
    print(f"queries: {len(QUERIES)} distinct x {args.rounds} rounds; {load()}")
    report("articles_search (public, page 1)", bench_search(args.rounds))
    report("articles_search (staff, page 2)", bench_search_staff_page2(args.rounds))
    report("GET /kb/suggest/ (cache cleared each time)", bench_suggest(args.rounds, cached=False))
    report("GET /kb/suggest/ (cached)", bench_suggest(args.rounds, cached=True))
    print(f"after the timed runs: {load()}")
    if connection.vendor == "postgresql":
        client = Client()
        costs("articles_search (public, page 1)", lambda q: articles_search(q))
        costs(
            "articles_search (staff, page 2)",
            lambda q: articles_search(q, audience="staff", offset=10),
        )
        costs(
            "GET /kb/suggest/ (cache cleared each time)",
            lambda q: (cache.clear(), client.get("/kb/suggest/", {"q": q})),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
