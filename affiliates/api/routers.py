"""The API's routers: an object's id in a URL is a whole number (``<int:pk>``), so
``/offers/abc/`` is a 404 from the URL resolver, before any view or query runs, and the schema
documents every id in a path as an integer.

DRF's routers accept any segment (``[^/.]+``) and leave the view to turn ``abc`` into an id; a
view that looks the id up itself (``get_object_or_404(..., pk=self.kwargs[...])``) then failed
with a ValueError, a 500. Here every router refuses such URLs in one place. A viewset that names
its own ``lookup_value_converter`` keeps it. (An id beyond the column's range finds nothing:
Django answers an out-of-range integer lookup with no rows.)
"""

from __future__ import annotations

from typing import Any

from rest_framework import routers


class _IdRoutes(routers.SimpleRouter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("use_regex_path", False)  # Django path converters: <int:pk>
        super().__init__(*args, **kwargs)

    def get_lookup_regex(self, viewset: Any, lookup_prefix: str = "") -> str:
        kwarg = getattr(viewset, "lookup_url_kwarg", None) or getattr(viewset, "lookup_field", "pk")
        converter = getattr(viewset, "lookup_value_converter", "int")
        return f"<{converter}:{lookup_prefix}{kwarg}>"


class SimpleRouter(_IdRoutes):
    """DRF's SimpleRouter, ids as whole numbers."""


class DefaultRouter(_IdRoutes, routers.DefaultRouter):
    """DRF's DefaultRouter (with the API root view), ids as whole numbers."""
