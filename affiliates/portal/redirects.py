"""Where a portal page may send the browser next: only somewhere on this site.

Every redirect that takes its target from the request (``next=`` on the portal's forms) goes
through ``redirect_next``. Django's own login, logout and admin views check ``next`` the same
way (``url_has_allowed_host_and_scheme``), so one rule holds everywhere: a path on this host, or
an absolute URL naming this host, over HTTPS when the request came over HTTPS. It refuses
``//evil.com``, ``/\\evil.com``, ``https://evil.com``, ``javascript:...`` and control characters.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

NEXT = "next"


def next_safe(request: HttpRequest, target: str | None) -> str | None:
    """``target`` if it stays on this site, else None."""
    if not target:
        return None
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else None


def redirect_next(request: HttpRequest, fallback: str, *args: Any, **kwargs: Any) -> HttpResponseRedirect:
    """Redirect to the request's ``next`` (form field, then query) when it is on this site,
    else to ``fallback`` (a URL name, resolved with ``args``/``kwargs``)."""
    target = next_safe(request, request.POST.get(NEXT) or request.GET.get(NEXT))
    if target is not None:
        return HttpResponseRedirect(target)
    response: HttpResponseRedirect = redirect(resolve_url(fallback, *args, **kwargs))
    return response
