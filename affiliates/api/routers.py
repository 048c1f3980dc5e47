"""The API's routers: an object's id in a URL is digits, so ``/offers/abc/`` is a 404 from the URL
resolver, before any view or query runs.

DRF's routers accept any segment (``[^/.]+``) and leave the view to turn ``abc`` into an id; a
view that looks the id up itself (``get_object_or_404(..., pk=self.kwargs[...])``) then failed
with a ValueError, a 500. Here every router refuses such URLs in one place. A viewset that names
its own ``lookup_value_regex`` keeps it. 18 digits stay within a bigint. The schema documents
these ids as integers (affiliates.api.schema).
"""

from __future__ import annotations

from typing import Any

from rest_framework import routers

ID_PATTERN = "[0-9]{1,18}"


class _IdRoutes(routers.SimpleRouter):
    def get_lookup_regex(self, viewset: Any, lookup_prefix: str = "") -> str:
        if hasattr(viewset, "lookup_value_regex"):
            return super().get_lookup_regex(viewset, lookup_prefix)
        kwarg = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
        return f"(?P<{lookup_prefix}{kwarg}>{ID_PATTERN})"


class SimpleRouter(_IdRoutes):
    """DRF's SimpleRouter, ids as digits."""


class DefaultRouter(_IdRoutes, routers.DefaultRouter):
    """DRF's DefaultRouter (with the API root view), ids as digits."""
