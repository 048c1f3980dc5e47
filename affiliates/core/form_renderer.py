"""The form renderer: Django's own, with its stock widget templates drawn in Python.

Django draws every widget through a template, and every ``<option>`` and every checkbox of a
select or checkbox list through two more (the option's template and ``attrs.html``). The offer
form (about 140 fields, several selects of countries, currencies, publishers and goals) thus
renders some 700 templates a page, which is most of its server time (issue 16).

``WidgetRenderer.render`` writes the same markup as Django's templates under
``django/forms/widgets/`` for the stock input, select, textarea and checkbox/radio-list widgets,
byte for byte (the same escaping, ``stringformat:'s'`` and localisation through
``render_value_in_context``; the same whitespace, stripped as ``BaseRenderer.render`` strips).
Any other template (forms, formsets, fields, errors, the admin's widgets, a widget whose option
uses a template of its own) still goes through the template engine, so an override of one of
those templates keeps working. tests/test_form_renderer.py compares both ways, widget by widget.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.safestring import SafeData, SafeString, mark_safe

_W = "django/forms/widgets/"
#: Autoescape on, localisation and time zone as the template engine's defaults.
_CONTEXT = Context()


def _out(value: Any) -> str:
    """``{{ value }}`` in a template."""
    return str(render_value_in_context(value, _CONTEXT))


def _s(value: Any) -> str:
    """``{{ value|stringformat:'s' }}`` in a template."""
    text: str = "%s" % (str(value) if isinstance(value, tuple) else value)
    # the filter is is_safe: what was safe before it stays safe (and unescaped)
    return _out(mark_safe(text) if isinstance(value, SafeData) else text)  # noqa: S308


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``."""
    parts = []
    for name, value in attrs.items():
        if value is not False:
            parts.append(f" {_out(name)}" if value is True else f' {_out(name)}="{_s(value)}"')
    return "".join(parts)


def _input(w: Mapping[str, Any]) -> str:
    """``input.html`` (and the templates that only include it)."""
    value = f' value="{_s(w["value"])}"' if w["value"] is not None else ""
    return f'<input type="{_out(w["type"])}" name="{_out(w["name"])}"{value}{_attrs(w["attrs"])}>'


def _input_option(w: Mapping[str, Any]) -> str:
    """``input_option.html``: a checkbox or radio of a list, in its label. Each template file
    ends in a newline, which an include keeps (only the outermost output is stripped)."""
    if not w["wrap_label"]:
        return _input(w) + "\n\n"
    label_id = w["attrs"].get("id")
    label_for = f' for="{_out(label_id)}"' if label_id else ""
    return f"<label{label_for}>{_input(w)}\n {_out(w['label'])}</label>\n"


def _select_option(w: Mapping[str, Any]) -> str:
    """``select_option.html``."""
    return f'<option value="{_s(w["value"])}"{_attrs(w["attrs"])}>{_out(w["label"])}</option>\n'


_OPTIONS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    _W + "select_option.html": _select_option,
    # checkbox_option.html and radio_option.html include input_option.html, plus a newline.
    _W + "checkbox_option.html": lambda w: _input_option(w) + "\n",
    _W + "radio_option.html": lambda w: _input_option(w) + "\n",
    _W + "input_option.html": _input_option,
}


def _options_known(w: Mapping[str, Any]) -> bool:
    return all(o["template_name"] in _OPTIONS for _g, options, _i in w["optgroups"] for o in options)


def _select(w: Mapping[str, Any]) -> str:
    """``select.html``."""
    parts = [f'<select name="{_out(w["name"])}"{_attrs(w["attrs"])}>']
    for group_name, options, _index in w["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{_out(group_name)}">')
        parts.extend("\n  " + _OPTIONS[o["template_name"]](o) for o in options)
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def _multiple_input(w: Mapping[str, Any]) -> str:
    """``multiple_input.html`` (checkbox_select.html and radio.html include it)."""
    attrs = w["attrs"]
    element_id, css = attrs.get("id"), attrs.get("class")
    parts = ["<div", f' id="{_out(element_id)}"' if element_id else ""]
    parts.append(f' class="{_out(css)}">' if css else ">")
    for group, options, _index in w["optgroups"]:
        if group:
            parts.append(f"\n  <div><label>{_out(group)}</label>")
        parts.extend(f"<div>\n    {_OPTIONS[o['template_name']](o)}</div>" for o in options)
        if group:
            parts.append("\n  </div>")
    parts.append("\n</div>")
    return "".join(parts)


def _textarea(w: Mapping[str, Any]) -> str:
    """``textarea.html``."""
    body = _out(w["value"]) if w["value"] else ""
    return f'<textarea name="{_out(w["name"])}"{_attrs(w["attrs"])}>\n{body}</textarea>'


_INPUTS: list[str] = [
    *("checkbox", "color", "date", "datetime", "email", "file", "hidden", "input", "number"),
    *("password", "search", "tel", "text", "time", "url"),
]
#: Stock widget template -> its drawing in Python, and whether it draws option templates.
WIDGETS: dict[str, tuple[Callable[[Mapping[str, Any]], str], bool]] = {
    **{f"{_W}{name}.html": (_input, False) for name in _INPUTS},
    _W + "select.html": (_select, True),
    _W + "checkbox_select.html": (_multiple_input, True),
    _W + "radio.html": (_multiple_input, True),
    _W + "multiple_input.html": (_multiple_input, True),
    _W + "textarea.html": (_textarea, False),
}


class WidgetRenderer(DjangoTemplates):
    """Django's default form renderer; stock widgets drawn without the template engine."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        drawn = WIDGETS.get(template_name)
        widget = context.get("widget")
        if drawn is not None and isinstance(widget, Mapping):
            draw, has_options = drawn
            if not has_options or _options_known(widget):
                return SafeString(draw(widget).strip())
        return str(super().render(template_name, context, request=request))
