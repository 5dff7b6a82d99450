"""Reading articles: what the help centre shows its visitors (published public articles only)
and what colleagues see in the knowledge base (everything, drafts and internal ones too)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from knowledge.models import Article, Category

SHOWN_PUBLICLY = Q(is_published=True, visibility=Article.Visibility.PUBLIC)


def public_articles() -> QuerySet[Article]:
    return Article.objects.filter(SHOWN_PUBLICLY)


def public_categories() -> list[Category]:
    """Categories with at least one article a visitor may read, with how many."""
    return list(
        Category.objects.annotate(
            shown=Count(
                "articles", filter=Q(articles__is_published=True, articles__visibility="public")
            )
        ).filter(shown__gt=0)
    )


def public_category(category_id: int) -> Category:
    found = Category.objects.filter(pk=category_id).first()
    if found is None or not public_articles().filter(category=found).exists():
        raise Http404("no such section")
    return found


def public_article(article_id: int) -> Article:
    found = public_articles().select_related("category").filter(pk=article_id).first()
    if found is None:
        raise Http404("no such article")
    return found


def uncategorised_public_articles() -> QuerySet[Article]:
    return public_articles().filter(category__isnull=True).order_by("title", "id")


def articles_for_colleagues(
    *, category: Category | None = None, status: str = "", text: str = ""
) -> QuerySet[Article]:
    """The knowledge base's list: every article, filtered by category, state and title."""
    found = Article.objects.select_related("category")
    if category is not None:
        found = found.filter(category=category)
    if status == "draft":
        found = found.filter(is_published=False)
    elif status == "published":
        found = found.filter(is_published=True)
    elif status in Article.Visibility.values:
        found = found.filter(visibility=status)
    if text:
        found = found.filter(Q(draft_title__icontains=text) | Q(title__icontains=text))
    return found


def article_for_colleagues(article_id: int) -> Article:
    found = Article.objects.select_related("category").filter(pk=article_id).first()
    if found is None:
        raise Http404("no such article")
    return found
