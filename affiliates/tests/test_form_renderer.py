"""The form renderer draws Django's stock widgets in Python with the templates' exact markup."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.test import signals
from django.utils.safestring import mark_safe

from affiliates.core.form_renderer import WidgetRenderer
from affiliates.portal.forms import OfferForm

GROUPED = [
    ("", "None <yet>"),
    ("Europe & more", [("de", "Germany"), ("fr", 'France "FR"')]),
    ("Asia", [("jp", "Japan")]),
    (7, 7),
]


class OptionTemplate(forms.RadioSelect):
    option_template_name = "django/forms/widgets/attrs.html"  # not one the renderer draws


class Everything(forms.Form):
    text = forms.CharField(help_text="Help", max_length=20)
    quoted = forms.CharField(required=False, widget=forms.TextInput(attrs={"placeholder": 'a "b" <c> & d'}))
    flags = forms.CharField(widget=forms.TextInput(attrs={"autofocus": True, "readonly": False, "data-x": 0}))
    safe = forms.CharField(required=False)
    number = forms.DecimalField(required=False, localize=True)
    integer = forms.IntegerField(min_value=0, max_value=9)
    email = forms.EmailField(required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    hidden = forms.CharField(widget=forms.HiddenInput)
    when = forms.DateTimeField(required=False)
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    agree = forms.BooleanField(required=False)
    upload = forms.FileField(required=False, widget=forms.FileInput)
    cleared = forms.FileField(required=False, widget=forms.ClearableFileInput)
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    empty_body = forms.CharField(required=False, widget=forms.Textarea)
    country = forms.ChoiceField(choices=GROUPED)
    countries = forms.MultipleChoiceField(choices=GROUPED, required=False)
    boxes = forms.MultipleChoiceField(
        choices=GROUPED, widget=forms.CheckboxSelectMultiple(attrs={"class": "c"})
    )
    radio = forms.ChoiceField(choices=[("a", "A & a"), ("b", "B")], widget=forms.RadioSelect)
    unlabelled = forms.ChoiceField(choices=[("a", "A")], widget=forms.RadioSelect(attrs={"id": ""}))
    own_option = forms.ChoiceField(choices=[("a", "A")], widget=OptionTemplate)
    split = forms.SplitDateTimeField(required=False)


DATA: dict[str, Any] = {
    "text": "<script>&",
    "flags": "x",
    "safe": mark_safe("<b>bold</b>"),
    "number": Decimal("1234.50"),
    "integer": 11,
    "password": 'p"w',
    "hidden": "h&",
    "when": datetime.datetime(2026, 12, 5, 13, 1),
    "agree": "on",
    "body": "line <1>\nline 2",
    "country": "fr",
    "countries": ["de", "7"],
    "boxes": ["jp"],
    "radio": "a",
}


def both(form_class: Any, **kwargs: Any) -> tuple[str, str]:
    fast = form_class(renderer=WidgetRenderer(), **kwargs)
    stock = form_class(renderer=DjangoTemplates(), **kwargs)
    return str(fast), str(stock)


def test_is_the_default_renderer() -> None:
    assert isinstance(get_default_renderer(), WidgetRenderer)


@pytest.mark.parametrize(
    "kwargs", [{}, {"data": DATA}, {"initial": DATA}], ids=["unbound", "bound", "initial"]
)
def test_every_stock_widget_matches_its_template(kwargs: dict[str, Any]) -> None:
    fast, stock = both(Everything, **kwargs)
    assert fast == stock
    for needle in ('value="&lt;script&gt;&amp;"', '<optgroup label="Europe &amp; more">', " autofocus "):
        assert needle in fast or not kwargs


def test_markup_per_widget_kind() -> None:
    fast, _stock = both(Everything, data=DATA)
    assert '\n  <option value="fr" selected>France &quot;FR&quot;</option>\n\n  </optgroup>' in fast
    assert (
        '<div><label>Asia</label><div>\n    <label for="id_boxes_2_0"><input type="checkbox" '
        'name="boxes" value="jp" class="c" id="id_boxes_2_0" checked>\n Japan</label>\n\n</div>\n  </div>'
    ) in fast
    textarea = (
        '<textarea name="body" cols="40" rows="2" required id="id_body">\nline &lt;1&gt;\nline 2</textarea>'
    )
    assert textarea in fast
    assert 'value="<b>bold</b>"' in fast  # a safe string stays as it is, as in the template


class Stock(Everything):
    """Only the widgets the renderer draws."""

    cleared = None
    split = None
    own_option = None


def test_draws_stock_widgets_without_templates_and_others_with_theirs() -> None:
    def names(form: forms.Form) -> list[str]:
        rendered: list[str] = []

        def record(sender: Any, template: Any, **kwargs: Any) -> None:
            rendered.append(template.name)

        signals.template_rendered.connect(record)
        try:
            str(form)
        finally:
            signals.template_rendered.disconnect(record)
        return rendered

    stock = names(Stock(data=DATA, renderer=WidgetRenderer()))
    assert [n for n in stock if n.startswith("django/forms/widgets/")] == []
    assert "django/forms/div.html" in stock  # the form's own template still renders
    # a clearable file input, a split date-time widget and a radio list whose option has a
    # template of its own still go through their templates
    others = names(Everything(data=DATA, renderer=WidgetRenderer()))
    for name in ("clearable_file_input.html", "splitdatetime.html", "radio.html"):
        assert f"django/forms/widgets/{name}" in others
    assert others.count("django/forms/widgets/radio.html") == 1  # the stock radio list was drawn


def test_offer_form_matches(shoes: Any) -> None:
    for kwargs in ({"instance": shoes}, {"data": {"name": "<x>", "currency": "EUR"}, "instance": shoes}):
        fast, stock = both(OfferForm, advertiser_id=shoes.advertiser_id, **kwargs)
        assert fast == stock
        assert fast.count("<option") > 5
        assert fast.count('type="checkbox"') > 10
