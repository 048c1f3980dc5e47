"""The 1x1 transparent GIF that impressions and pixel conversions answer with: one copy, so
every path that serves a pixel sends the same bytes."""

from __future__ import annotations

import base64

GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
