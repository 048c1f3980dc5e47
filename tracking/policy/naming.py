"""Naming templates: ``{channel}-{campaign}-{geo}`` splits ``fb-summer-no`` into its parts.

A template is parts in braces with literal text between them; a value matches when the literals
appear in order. Each part takes the shortest text up to its next literal, the last part the
rest, so ``fb-summer-sale-no`` reads channel ``fb``, campaign ``summer``, geo ``sale-no``.
"""

from __future__ import annotations

import re
from functools import lru_cache

_PART = re.compile(r"\{([a-z][a-z0-9_]{0,31})\}")
UNMATCHED = "(unmatched)"


class TemplateError(ValueError):
    pass


def template_parts(pattern: str) -> list[str]:
    """The part names, in order; TemplateError for a template that cannot split anything."""
    names = _PART.findall(pattern)
    if not names:
        raise TemplateError("Name at least one part in braces, e.g. {channel}-{campaign}-{geo}.")
    if len(set(names)) != len(names):
        raise TemplateError("Each part may appear once.")
    pieces = _PART.split(pattern)
    literals = pieces[0::2]
    if any(not lit for lit in literals[1:-1]):
        raise TemplateError("Separate the parts with literal text, e.g. a dash: {channel}-{geo}.")
    if "{" in "".join(literals) or "}" in "".join(literals):
        raise TemplateError("Part names are lower-case letters, digits and _, in braces.")
    return names


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    pieces = _PART.split(pattern)
    out = []
    for i, piece in enumerate(pieces):
        if i % 2:
            last = i == len(pieces) - 2 and not pieces[-1]
            out.append(f"(?P<{piece}>.+)" if last else f"(?P<{piece}>.+?)")
        else:
            out.append(re.escape(piece))
    return re.compile("^" + "".join(out) + "$", re.DOTALL)


def naming_split(pattern: str, value: str) -> dict[str, str] | None:
    """The value's parts by name, or None when it does not follow the template."""
    match = _compiled(pattern).match(value)
    return match.groupdict() if match else None
