"""The public help centre on the company's host (/help/): its sections, public articles and
search, in the company's name, logo and colour. Open to anyone; reads published public
articles only. Every page is kept in the cache per company and per edition of its articles
(knowledge.pages_cache), and tells browsers and proxies they may keep it for a minute.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from knowledge import colours, pages_cache
from knowledge.models import HelpCentre
from knowledge.queries import articles as shown
from knowledge.queries.search import normalise, search
from knowledge.services.help_centre import settings_of_company
from tenants.models import Company

BROWSER_SECONDS = 60


def _centre(request: HttpRequest) -> tuple[Company, HelpCentre]:
    company = getattr(request, "company", None)
    if company is None:
        raise Http404("not a company host")
    centre = settings_of_company()
    if not centre.is_enabled:
        raise Http404("the help centre is closed")
    return company, centre


def _page(
    request: HttpRequest, key_parts: tuple[object, ...], make: Callable[[], HttpResponse]
) -> HttpResponse:
    """The page from the cache, or made and kept; either way cacheable for a minute."""
    from django.core.cache import cache

    company = request.company  # type: ignore[attr-defined]
    key = pages_cache.page_key(company, get_language() or "", *key_parts)
    kept = cache.get(key)
    if kept is not None:
        response = HttpResponse(kept)
    else:
        response = make()
        if response.status_code == 200:
            cache.set(key, response.content, pages_cache.PAGE_SECONDS)
    patch_cache_control(response, public=True, max_age=BROWSER_SECONDS)
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def _context(request: HttpRequest, centre: HelpCentre, **extra: object) -> dict[str, object]:
    return {**branding(request.company, centre), **extra}  # type: ignore[attr-defined]


def branding(company: Company, centre: HelpCentre | None = None) -> dict[str, object]:
    """What knowledge/public/base.html needs: the help centre's settings and the name it
    shows. Other public pages under /help/ (requests, one's own tickets) extend that template
    and put this in their context."""
    centre = centre or settings_of_company()
    return {
        "centre": centre,
        "centre_name": centre.title or company.name,
        "request_url": request_page_url(),
    }


# Where the help centre's "Submit a request" goes: customer service (a layer above) registers
# a function answering the page's address while it takes requests, or None; the knowledge base
# knows nothing of tickets.
REQUEST_PAGES: list[Callable[[], str | None]] = []


def request_page_url() -> str | None:
    return next((url for url in (page() for page in REQUEST_PAGES) if url), None)


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    _company, centre = _centre(request)
    return _page(
        request,
        ("home",),
        lambda: render(
            request,
            "knowledge/public/home.html",
            _context(
                request,
                centre,
                categories=shown.public_categories(),
                loose=shown.uncategorised_public_articles()[:50],
            ),
        ),
    )


def _page_number(request: HttpRequest) -> int:
    value = request.GET.get("page", "1")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 4 else 1


@require_safe
def search_page(request: HttpRequest) -> HttpResponse:
    _company, centre = _centre(request)
    text = normalise(request.GET.get("q", ""))
    page = _page_number(request)
    return _page(
        request,
        ("search", text, page),
        lambda: render(
            request,
            "knowledge/public/search.html",
            _context(
                request,
                centre,
                # The words searched for, not the raw text: the page is cached per those words.
                typed=text,
                found=search(text, public=True, page=page),
                page=page,
            ),
        ),
    )


@require_safe
def category(request: HttpRequest, category_id: int) -> HttpResponse:
    _company, centre = _centre(request)

    def make() -> HttpResponse:
        section = shown.public_category(category_id)
        return render(
            request,
            "knowledge/public/category.html",
            _context(
                request,
                centre,
                category=section,
                articles=shown.public_articles().filter(category=section).order_by("title", "id"),
            ),
        )

    return _page(request, ("category", category_id), make)


@require_safe
def article(request: HttpRequest, article_id: int) -> HttpResponse:
    _company, centre = _centre(request)

    def make() -> HttpResponse:
        found = shown.public_article(article_id)
        return render(
            request,
            "knowledge/public/article.html",
            _context(request, centre, article=found, category=found.category),
        )

    return _page(request, ("article", article_id), make)


@require_safe
def theme(request: HttpRequest) -> HttpResponse:
    """The company's colour, as a style sheet (the pages' CSP allows no inline style)."""
    _company, centre = _centre(request)
    accent = centre.accent_colour
    response = HttpResponse(
        f":root {{ --help-accent: {accent}; --help-on-accent: {colours.text_on(accent)}; "
        f"--help-link: {colours.link_on_page(accent)}; }}\n",
        content_type="text/css",
    )
    patch_cache_control(response, public=True, max_age=BROWSER_SECONDS)
    return response


def _member_here(request: HttpRequest) -> bool:
    """A member of this company, on one of its office networks if it keeps to them (the
    help centre's paths skip that check for customers; members' pictures must not)."""
    from tenants.services.network import allowed, client_ip

    company = getattr(request, "company", None)
    if company is None or getattr(request, "membership", None) is None:
        return False
    return not company.ip_allowlist or allowed(company.ip_allowlist, client_ip(request))


@require_safe
def image(request: HttpRequest, key: uuid.UUID) -> FileResponse:
    """An article's picture: to anyone when a published public article shows it, otherwise
    only to the company's members (from its office networks, when it keeps to them)."""
    from knowledge.queries.images import image_to_show

    picture, public = image_to_show(key, member=_member_here(request))
    try:
        stored = picture.file.open("rb")
    except FileNotFoundError:
        raise Http404("the picture's file is gone") from None
    response = FileResponse(stored, content_type=picture.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if public:
        patch_cache_control(response, public=True, max_age=BROWSER_SECONDS)
    else:
        patch_cache_control(response, private=True, max_age=BROWSER_SECONDS)
    return response


@require_safe
def logo(request: HttpRequest) -> FileResponse:
    _company, centre = _centre(request)
    if not centre.logo:
        raise Http404("no logo")
    response = FileResponse(centre.logo.open("rb"))
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, public=True, max_age=BROWSER_SECONDS)
    return response
