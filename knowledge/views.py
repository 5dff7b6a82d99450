"""The knowledge base for colleagues: the article list, the editor with its preview,
publishing and history, categories, and the help centre's settings. Thin: reads through
queries, writes through services."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_core.access import is_admin, member_required, require_admin, require_write
from crm_core.views import _errors_to_form, _membership
from knowledge import rendering
from knowledge.forms import ArticleForm, CategoryForm, HelpCentreForm
from knowledge.models import Article, ArticleVersion, Category
from knowledge.queries.articles import article_for_colleagues, articles_for_colleagues
from knowledge.queries.images import article_images
from knowledge.queries.search import search
from knowledge.services import articles, categories, help_centre, images


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@member_required
@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    category_id = _int(request.GET.get("category"))
    category = Category.objects.filter(pk=category_id).first() if category_id else None
    status = request.GET.get("status", "")[:20]
    text = request.GET.get("q", "").strip()[:200]
    found = None
    if text and request.GET.get("words") == "1":
        found = search(text, public=False)
    return render(
        request,
        "knowledge/list.html",
        {
            "articles": articles_for_colleagues(category=category, status=status, text=text)[:300],
            "categories": Category.objects.all(),
            "category": category,
            "status": status,
            "text": text,
            "found": found,
        },
    )


@member_required
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, article_id: int | None = None) -> HttpResponse:
    membership = _membership(request)
    article = article_for_colleagues(article_id) if article_id else Article()
    if request.method == "POST":
        require_write(membership)
    form = ArticleForm(request.POST or None, instance=article)
    if not article.pk and request.method == "GET":
        form.initial.setdefault("language", request.company.language)  # type: ignore[attr-defined]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = articles.save_draft(
                membership,
                article,
                title=data["draft_title"],
                body=data["draft_body"],
                category=data["category"],
                visibility=data["visibility"],
                language=data["language"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            if request.POST.get("action") == "publish":
                articles.publish(membership, saved)
                messages.success(request, _("Published: readers see this text now."))
            elif saved.is_published:
                messages.success(
                    request,
                    _("Draft saved. Readers still see the published text until you publish."),
                )
            else:
                messages.success(request, _("Draft saved."))
            return redirect("knowledge_article", saved.pk)
    return render(
        request,
        "knowledge/edit.html",
        {
            "form": form,
            "article": article,
            "preview": rendering.to_html(article.draft_body),
            "images": _pictures(article) if article.pk else [],
        },
    )


def _pictures(article: Article) -> list[tuple[object, str]]:
    return [(image, images.markdown_of(image)) for image in article_images(article)]


@member_required
@require_POST
def article_image(request: HttpRequest, article_id: int) -> HttpResponse:
    """Upload a picture into the article: with htmx the list of its pictures comes back and
    the editor inserts the new one's Markdown where the cursor is; without, the page again."""
    membership = _membership(request)
    article = article_for_colleagues(article_id)
    error, uploaded = "", None
    try:
        uploaded = images.upload_image(membership, article, request.FILES.get("image"))
    except ValidationError as exc:
        error = " ".join(exc.messages)
    if not request.headers.get("HX-Request"):
        if error:
            messages.error(request, error)
        else:
            messages.success(
                request,
                _("Picture uploaded: put %(code)s where it goes in the text.")
                % {"code": images.markdown_of(uploaded)},  # type: ignore[arg-type]
            )
        return redirect("knowledge_article", article.pk)
    return render(
        request,
        "knowledge/_images.html",
        {
            "article": article,
            "images": _pictures(article),
            "image_error": error,
            "inserted": images.markdown_of(uploaded) if uploaded else "",
        },
    )


@member_required
@require_POST
def article_preview(request: HttpRequest) -> HttpResponse:
    """The editor's text as readers would see it (htmx, while writing)."""
    source = request.POST.get("draft_body", "")[:200_000]
    return render(request, "knowledge/_preview.html", {"preview": rendering.to_html(source)})


@member_required
@require_POST
def article_publish(request: HttpRequest, article_id: int) -> HttpResponse:
    articles.publish(_membership(request), article_for_colleagues(article_id))
    messages.success(request, _("Published: readers see this text now."))
    return redirect("knowledge_article", article_id)


@member_required
@require_POST
def article_unpublish(request: HttpRequest, article_id: int) -> HttpResponse:
    articles.unpublish(_membership(request), article_for_colleagues(article_id))
    messages.success(request, _("Unpublished: only colleagues can open it now."))
    return redirect("knowledge_article", article_id)


@member_required
@require_POST
def article_delete(request: HttpRequest, article_id: int) -> HttpResponse:
    article = article_for_colleagues(article_id)
    if request.POST.get("confirm") != "on":
        messages.error(request, _("Tick the box to delete the article with its history."))
        return redirect("knowledge_article", article_id)
    articles.delete_article(_membership(request), article)
    messages.success(request, _("Article deleted."))
    return redirect("knowledge")


@member_required
@require_GET
def article_history(request: HttpRequest, article_id: int) -> HttpResponse:
    article = article_for_colleagues(article_id)
    return render(
        request,
        "knowledge/history.html",
        {"article": article, "versions": article.versions.all()},
    )


@member_required
@require_POST
def article_restore(request: HttpRequest, article_id: int, version_id: int) -> HttpResponse:
    article = article_for_colleagues(article_id)
    version = get_object_or_404(ArticleVersion, pk=version_id, article=article)
    articles.restore_version(_membership(request), article, version)
    messages.success(
        request,
        _("Version %(number)s is in the draft now; publish it when ready.")
        % {"number": version.number},
    )
    return redirect("knowledge_article", article_id)


# --- Categories ------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def category_list(request: HttpRequest, category_id: int | None = None) -> HttpResponse:
    membership = _membership(request)
    category = get_object_or_404(Category, pk=category_id) if category_id else Category()
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            categories.save_category(
                membership,
                category,
                name=data["name"],
                description=data["description"],
                position=data["position"],
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Category saved."))
            return redirect("knowledge_categories")
    return render(
        request,
        "knowledge/categories.html",
        {"form": form, "category": category, "categories": Category.objects.all()},
    )


@member_required
@require_POST
def category_delete(request: HttpRequest, category_id: int) -> HttpResponse:
    categories.delete_category(_membership(request), get_object_or_404(Category, pk=category_id))
    messages.success(request, _("Category deleted; its articles stay, without a category."))
    return redirect("knowledge_categories")


# --- The help centre's settings --------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def help_settings(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    if not is_admin(membership):
        raise Http404("owners and admins only")
    require_admin(membership)
    centre = help_centre.settings_of_company()
    form = HelpCentreForm(request.POST or None, request.FILES or None, instance=centre)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        upload = request.FILES.get("logo")
        try:
            help_centre.save_settings(
                membership,
                is_enabled=data["is_enabled"],
                title=data["title"],
                intro=data["intro"],
                accent_colour=data["accent_colour"],
                logo=upload,
                remove_logo=data.get("remove_logo", False),
            )
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, _("Help centre saved."))
            return redirect("knowledge_help_settings")
    return render(
        request,
        "knowledge/help_settings.html",
        {
            "form": form,
            "centre": centre,
            "help_address": request.build_absolute_uri(reverse("help_home")),
        },
    )
