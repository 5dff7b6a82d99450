"""Finding articles by what a reader types, in any form of the word and with a typo.

- Full-text search over the published copy (``Article.search_vector``, GIN index): the query is
  read three ways at once — with the Russian and the English stemmer ("оплатить" finds
  "оплата", "paying" finds "pay") and as typed ("simple", for names and codes) — and an
  article matches when it has every word in one of those readings.
- A word that matches nothing is corrected to the nearest word the articles use (pg_trgm, the
  vocabulary's GiST index) and the search runs again, saying what it searched for instead.
  Where pg_trgm is not installed, there is no correction; word forms still work.
- Results are ranked (title above text, ``ts_rank_cd``) and come with a snippet of the text
  around the words found (``ts_headline``, made for the page's results only).

The public help centre sees published public articles only; colleagues see internal ones too.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.safestring import SafeString, mark_safe

from crm_core.queries.search import trigrams_available
from knowledge.models import Article
from relata.db import set_local

MAX_QUERY = 200
MAX_WORDS = 8
PAGE = 10
CANDIDATES = 500
SHOWN_FIELDS = ("id", "title", "visibility", "language", "category_id", "published_at")
# A one-letter slip in a six-letter word ("оплта" for "оплата") is about 0.4 apart.
WORD_SIMILARITY = 0.3
_WORD = re.compile(r"[^\W_]+")
# Private-use characters mark the words found in a snippet: they cannot come from an article's
# text, so after escaping the snippet they are the only thing turned into markup.
_START, _STOP = "\ue000", "\ue001"

_TSQUERY = (
    "(SELECT websearch_to_tsquery('russian', %(q)s) || websearch_to_tsquery('english', %(q)s)"
    " || websearch_to_tsquery('simple', %(q)s) AS q) AS query"
)


@dataclass
class Found:
    article: Article
    snippet: SafeString


@dataclass
class SearchResults:
    query: str
    results: list[Found] = field(default_factory=list)
    # What was searched for instead when the words as typed found nothing.
    corrected: str = ""
    has_more: bool = False


def normalise(query: str) -> str:
    """The words of a query, at most MAX_WORDS of them, lower case, no operators."""
    words = _WORD.findall(query[: MAX_QUERY * 2].lower())[:MAX_WORDS]
    return " ".join(words)[:MAX_QUERY]


def search(query: str, *, public: bool, page: int = 1) -> SearchResults:
    text = normalise(query)
    results = SearchResults(query=text)
    if not text:
        return results
    page = max(1, min(page, CANDIDATES // PAGE))
    ids, more = _matching(text, public=public, page=page)
    if not ids and page == 1 and trigrams_available():
        corrected = _corrected(text)
        if corrected != text:
            ids, more = _matching(corrected, public=public, page=page)
            if ids:
                results.corrected = corrected
    if not ids:
        return results
    used = results.corrected or text
    snippets = _snippets(ids, used)
    # What a result shows; the texts and the vector stay in the database.
    articles = Article.objects.only(*SHOWN_FIELDS).in_bulk(ids)
    results.results = [Found(articles[pk], snippets.get(pk, mark_safe(""))) for pk in ids]
    results.has_more = more
    return results


def _matching(text: str, *, public: bool, page: int) -> tuple[list[int], bool]:
    """The page's article ids, best first. Ranking reads each candidate's whole vector, so at
    most CANDIDATES matches are ranked — the most recently published, when a query is so
    general that more articles match (a word in every other article says little anyway)."""
    shown = "is_published" + (" AND visibility = 'public'" if public else "")
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH hits AS MATERIALIZED (SELECT id FROM knowledge_article, {_TSQUERY} "
            f"WHERE {shown} AND search_vector @@ q "
            "ORDER BY published_at DESC LIMIT %(candidates)s) "
            f"SELECT id FROM knowledge_article, {_TSQUERY} "
            "WHERE id IN (SELECT id FROM hits) "
            "ORDER BY ts_rank_cd(search_vector, q) DESC, published_at DESC, id DESC "
            "LIMIT %(limit)s OFFSET %(offset)s",
            {
                "q": text,
                "candidates": CANDIDATES,
                "limit": PAGE + 1,
                "offset": (page - 1) * PAGE,
            },
        )
        ids = [row[0] for row in cursor.fetchall()]
    return ids[:PAGE], len(ids) > PAGE


def _snippets(ids: list[int], text: str) -> dict[int, SafeString]:
    options = (
        f"StartSel={_START}, StopSel={_STOP}, MaxWords=30, MinWords=12, ShortWord=2, "
        'MaxFragments=2, FragmentDelimiter=" … "'
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, CASE WHEN language = 'en' "
            "THEN ts_headline('english', text, q, %(options)s) "
            "ELSE ts_headline('russian', text, q, %(options)s) END "
            f"FROM knowledge_article, {_TSQUERY} WHERE id = ANY(%(ids)s)",
            {"q": text, "ids": ids, "options": options},
        )
        return {pk: _marked(snippet or "") for pk, snippet in cursor.fetchall()}


def _marked(snippet: str) -> SafeString:
    escaped = html.escape(snippet)
    return mark_safe(  # noqa: S308  (escaped above; only our markers become tags)
        escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")
    )


def _corrected(text: str) -> str:
    """Each word the articles never use, replaced by the nearest word they do use."""
    words = text.split()
    with transaction.atomic(), connection.cursor() as cursor:
        set_local("pg_trgm.similarity_threshold", str(WORD_SIMILARITY))
        cursor.execute("SELECT word FROM knowledge_searchword WHERE word = ANY(%s)", [words])
        known = {row[0] for row in cursor.fetchall()}
        fixed = []
        for word in words:
            if word in known or len(word) < 3 or word.isdigit():
                fixed.append(word)
                continue
            cursor.execute(
                "SELECT word FROM knowledge_searchword WHERE word %% %s "
                "ORDER BY word <-> %s LIMIT 1",
                [word, word],
            )
            row = cursor.fetchone()
            fixed.append(row[0] if row else word)
    return " ".join(fixed)
