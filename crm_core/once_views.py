"""``@acts_once``: a create form's view runs once per page (services/once.py does the claiming).

A double click, a re-sent POST or a browser retry after a dropped answer carry the same form
token: the first runs; a repeat goes back to the page it came from with a word of what
happened (an htmx repeat gets "nothing to change", 204). A view that shows its form again with
an error lets the token go, so the person corrects it and sends the same page once more; one
that redirects keeps it taken (the page it leads to has a new form with a new token), and so
does a composer answered in place (``in_place``: card.js gives the form a new token).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from crm_core.services import once


class _ShownAgain(Exception):  # noqa: N818  (control flow: the view answered with its form)
    def __init__(self, response: HttpResponseBase) -> None:
        self.response = response


View = Callable[..., HttpResponseBase]


def acts_once(view: View | None = None, *, in_place: bool = False) -> Any:
    """``@acts_once`` on a form view; ``@acts_once(in_place=True)`` on a composer endpoint."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            token = request.POST.get(once.FIELD) if request.method == "POST" else None
            if not token:
                return view(request, *args, **kwargs)
            try:
                with once.acting_once(token):
                    response = view(request, *args, **kwargs)
                    done = (
                        response.status_code < 400
                        if in_place
                        else 300 <= response.status_code < 400
                    )
                    if not done:
                        raise _ShownAgain(response)
            except once.AlreadySubmittedError:
                return _repeated(request)
            except _ShownAgain as shown:
                return shown.response
            return response

        return wrapper

    return decorate(view) if view is not None else decorate


def _repeated(request: HttpRequest) -> HttpResponseBase:
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204)  # the first post's answer is already on the page
    messages.info(request, _("This form was already sent: nothing was made twice."))
    back = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("workspace")
