"""Help-centre search with 5,000 published articles: the public search's query time.

    .venv/bin/python bench/help_search.py [--articles 5000] [--samples 200]

Builds one company in its own database (relata_bench_help) with the real migrations, writes
the articles through the publishing service (Russian texts of 150–400 words from a vocabulary
of support topics, one in five internal), then times ``knowledge.queries.search.search`` —
what /help/search/ calls when its page is not cached — for a mix of queries: one and two
words, other word forms than the articles', typos the search corrects, and words nowhere.
Target: p95 ≤ 50 ms. Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

import common
from common import machine, percentile, write_section

common.BENCH_DB = "relata_bench_help"
os.environ["CACHE_KEY_PREFIX"] = "bench-help"

TOPICS = [
    "оплата",
    "счёт",
    "карта",
    "возврат",
    "доставка",
    "курьер",
    "заказ",
    "гарантия",
    "монтаж",
    "окно",
    "дверь",
    "замер",
    "договор",
    "скидка",
    "акция",
    "рассрочка",
    "кредит",
    "документ",
    "акт",
    "накладная",
    "склад",
    "самовывоз",
    "отслеживание",
    "трек",
    "пароль",
    "вход",
    "кабинет",
    "уведомление",
    "телефон",
    "почта",
    "адрес",
    "изменение",
    "отмена",
    "претензия",
    "брак",
    "обмен",
    "размер",
    "цвет",
    "фурнитура",
    "стеклопакет",
    "подоконник",
    "откос",
    "сетка",
    "уплотнитель",
    "регулировка",
]
FILLER = [
    "как",
    "где",
    "когда",
    "можно",
    "нужно",
    "если",
    "чтобы",
    "после",
    "перед",
    "также",
    "обычно",
    "всегда",
    "только",
    "через",
    "для",
    "клиент",
    "менеджер",
    "компания",
    "срок",
    "день",
    "неделя",
    "рабочий",
    "вопрос",
    "ответ",
    "способ",
    "правило",
    "условие",
]
QUERIES = [
    "оплата", "оплатить картой", "возврата товара", "доставку курьером", "гарантии на окна",
    "рассрочку", "отменить заказ", "самовывоза со склада", "вазврат", "даставка", "стеклопакета",
    "регулировку фурнитуры", "документы по договору", "телепортация", "пароль от кабинета",
]  # fmt: skip


def _text(rng: random.Random) -> str:
    words = []
    for _ in range(rng.randint(150, 400)):
        words.append(rng.choice(TOPICS) if rng.random() < 0.3 else rng.choice(FILLER))
    return " ".join(words).capitalize() + "."


def build(articles: int) -> object:
    from django.core.management import call_command

    call_command("migrate_schemas", interactive=False, verbosity=0)
    from knowledge.models import Article, Category
    from knowledge.services import articles as writing
    from tenants.models import Company, Membership
    from tenants.services.provisioning import create_company

    company = Company.objects.filter(slug="helpbench").first()
    if company is None:
        company = create_company(
            name="Help bench", slug="helpbench", owner_email="owner@helpbench.example",
            owner_password="Bench-Pass-123",
        ).company  # fmt: skip
    owner = Membership.objects.get(company=company, role="owner")
    rng = random.Random(22)
    with company:
        have = Article.objects.count()
        sections = list(Category.objects.all()) or [
            Category.objects.create(name=f"Раздел {n}") for n in range(12)
        ]
        started = time.perf_counter()
        for n in range(have, articles):
            title = " ".join(rng.sample(TOPICS, 3)).capitalize()
            article = writing.save_draft(
                owner, Article(), title=title, body=_text(rng), category=rng.choice(sections),
                visibility="internal" if n % 5 == 0 else "public", language="ru",
            )  # fmt: skip
            writing.publish(owner, article)
        if articles > have:
            print(f"wrote {articles - have} articles in {time.perf_counter() - started:.0f} s")
    return company


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    common.configure(fresh=False)
    company = build(args.articles)
    from django.db import connection

    from knowledge.queries.search import search

    times: list[float] = []
    with company:  # type: ignore[attr-defined]
        connection.cursor().execute("ANALYZE")
        for query in QUERIES:  # warm up
            search(query, public=True)
        for n in range(args.samples):
            query = QUERIES[n % len(QUERIES)]
            started = time.perf_counter()
            search(query, public=True)
            times.append(time.perf_counter() - started)
    median, p95 = statistics.median(times) * 1000, percentile(times, 95) * 1000
    line = f"median {median:.1f} ms, p95 {p95:.1f} ms over {len(times)} searches"
    print(line)
    write_section(
        "help_search",
        f"""## Help-centre search (knowledge)

`.venv/bin/python bench/help_search.py` — {args.articles} published articles (one in five
internal) in one company; the public search (`knowledge.queries.search.search`, what
/help/search/ runs when the page is not cached): full-text over the stored tsvector (GIN),
ranking, snippets, and typo correction by trigrams for the queries that need it. A mix of
{len(QUERIES)} queries (word forms, typos, a word found nowhere). Target p95 ≤ 50 ms.

- {line}
- Machine: {machine()}
""",
    )
    sys.exit(0 if p95 <= 50 else 1)


if __name__ == "__main__":
    main()
