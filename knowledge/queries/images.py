"""Who may see an article's picture: anyone, when the help centre is open and the published
public article shows it; otherwise only the company's members (an internal article, a draft,
a picture taken out of the text)."""

from __future__ import annotations

import uuid

from django.http import Http404

from knowledge.models import Article, ArticleImage, HelpCentre


def article_images(article: Article) -> list[ArticleImage]:
    return list(ArticleImage.objects.filter(article=article).order_by("-id")[:50])


def is_public(image: ArticleImage) -> bool:
    from knowledge.services.images import url_of

    article = image.article
    centre = HelpCentre.objects.first()
    return (
        (centre is None or centre.is_enabled)
        and article.is_published
        and article.visibility == Article.Visibility.PUBLIC
        and f"({url_of(image)})" in article.body
    )


def image_to_show(key: uuid.UUID, *, member: bool) -> tuple[ArticleImage, bool]:
    """The picture and whether it is public; 404 for anyone it is not for."""
    image = ArticleImage.objects.select_related("article").filter(key=key).order_by("pk").first()
    if image is None:
        raise Http404("no such picture")
    public = is_public(image)
    if not public and not member:
        raise Http404("no such picture")
    return image, public
