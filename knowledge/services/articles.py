"""Writing articles: drafts, publishing (a new version readers see), unpublishing, going back
to an earlier version, deleting. Every change a reader could see forgets the cached pages."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_core.access import require_write
from knowledge import pages_cache, rendering
from knowledge.models import Article, ArticleVersion, Category, SearchWord
from tenants.models import Membership

# Words the typo correction may suggest: letters only, at least three of them.
_WORDS = re.compile(r"[^\W\d_]{3,40}")


def save_draft(
    membership: Membership,
    article: Article,
    *,
    title: str,
    body: str,
    category: Category | None,
    visibility: str,
    language: str,
) -> Article:
    """Keep the editor's text as the draft. Who may read it and where it is filed take effect
    at once (they are not part of the text readers wait for)."""
    require_write(membership)
    title = title.strip()
    if not title:
        raise ValidationError({"draft_title": _("An article needs a title.")})
    was_shown = article.pk is not None and _shown_publicly(article)
    article.draft_title = title
    article.draft_body = body
    article.category = category
    article.visibility = visibility
    article.language = language
    article.updated_by_id = membership.user_id
    article.updated_at = timezone.now()
    if article.pk is None:
        article.created_by_id = membership.user_id
    article.full_clean(exclude=["title", "search_vector"])
    article.save()
    if was_shown or _shown_publicly(article):
        pages_cache.forget_pages()
    return article


def _shown_publicly(article: Article) -> bool:
    return article.is_published and article.visibility == Article.Visibility.PUBLIC


@transaction.atomic
def publish(membership: Membership, article: Article) -> ArticleVersion:
    """The draft becomes what readers see, and a new version in the article's history."""
    require_write(membership)
    article = Article.objects.select_for_update().get(pk=article.pk)
    now = timezone.now()
    article.title = article.draft_title
    article.body = article.draft_body
    article.html = rendering.to_html(article.body)
    article.text = rendering.to_text(article.html)
    article.is_published = True
    article.published_at = now
    article.updated_by_id = membership.user_id
    article.updated_at = now
    article.save()
    number = (article.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ArticleVersion.objects.create(
        article=article,
        number=number,
        title=article.title,
        body=article.body,
        published_at=now,
        published_by_id=membership.user_id,
    )
    remember_words(f"{article.title} {article.text}")
    pages_cache.forget_pages()
    return version


def unpublish(membership: Membership, article: Article) -> Article:
    """Readers no longer see it; the draft and the history stay."""
    require_write(membership)
    article.is_published = False
    article.updated_by_id = membership.user_id
    article.updated_at = timezone.now()
    article.save(update_fields=["is_published", "updated_by", "updated_at"])
    pages_cache.forget_pages()
    return article


def restore_version(membership: Membership, article: Article, version: ArticleVersion) -> Article:
    """An earlier version's text back in the draft, to publish again when ready."""
    require_write(membership)
    if version.article_id != article.pk:
        raise ValidationError(_("That version belongs to another article."))
    article.draft_title = version.title
    article.draft_body = version.body
    article.updated_by_id = membership.user_id
    article.updated_at = timezone.now()
    article.save(update_fields=["draft_title", "draft_body", "updated_by", "updated_at"])
    return article


def delete_article(membership: Membership, article: Article) -> None:
    require_write(membership)
    article.delete()
    pages_cache.forget_pages()


def remember_published_words() -> None:
    """Every published article's words (after a restore from an archive)."""
    for title, text in Article.objects.filter(is_published=True).values_list("title", "text"):
        remember_words(f"{title} {text}")


def remember_words(text: str) -> None:
    """The words of a published text join the vocabulary typos are corrected against."""
    words = {w.lower() for w in _WORDS.findall(text)}
    if words:
        SearchWord.objects.bulk_create(
            [SearchWord(word=w) for w in sorted(words)], ignore_conflicts=True, batch_size=2000
        )
