"""The confirm step of a destructive action (suspend, reject, pause, reverse, release...): a page
that says what the action will do, and a form that posts it again with a required checkbox. It
works without JavaScript; the view checks ``confirmed`` on the server too, so a post without
the box ticked (an old form, a script, a browser ignoring ``required``) only shows the page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def confirmed(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("confirm") == "yes"


def confirm_page(
    request: HttpRequest,
    *,
    title: str,
    effects: Sequence[str],
    action: str,
    button: str,
    cancel: str,
    fields: Mapping[str, str | Sequence[str]] | None = None,
) -> HttpResponse:
    """The confirm page: ``effects`` are sentences saying what will happen; ``fields`` are posted
    again as they came (ids, action, reason, next)."""
    # The page's own form says it was on the page: posted back without the tick, it asks again
    # (400: nothing done). A first post (a list's button) or a GET shows the page (200).
    unticked = request.method == "POST" and request.POST.get("confirming") == "1"
    hidden = [
        (name, value)
        for name, values in (fields or {}).items()
        for value in ([values] if isinstance(values, str) else values)
    ]
    context = {
        "title": title,
        "effects": effects,
        "action": action,
        "button": button,
        "cancel": cancel,
        "hidden": hidden,
        "unticked": unticked,
    }
    return render(request, "portal/confirm.html", context, status=400 if unticked else 200)
