"""Naming templates split values by their parts; list values are stored in one normal form."""

from __future__ import annotations

import pytest

from tracking.policy.csvlists import BadValue, csv_rows, value_clean
from tracking.policy.naming import TemplateError, naming_split, template_parts

PATTERN = "{channel}-{campaign}-{geo}"


def test_a_value_is_split_by_the_templates_separators_and_the_last_part_takes_the_rest():
    assert naming_split(PATTERN, "fb-summer-no") == {"channel": "fb", "campaign": "summer", "geo": "no"}
    assert naming_split(PATTERN, "fb-summer-sale-no") == {
        "channel": "fb",
        "campaign": "summer",
        "geo": "sale-no",
    }
    assert naming_split("cc_{campaign}.{geo}", "cc_x.se") == {"campaign": "x", "geo": "se"}


def test_a_value_that_does_not_follow_the_template_does_not_split():
    assert naming_split(PATTERN, "fb") is None
    assert naming_split(PATTERN, "fb--no") is None
    assert naming_split("cc_{campaign}", "dd_x") is None


@pytest.mark.parametrize("pattern", ["no parts", "{a}{b}", "{a}-{a}", "{A}-{b}"])
def test_a_template_that_cannot_split_is_refused(pattern):
    with pytest.raises(TemplateError):
        template_parts(pattern)


@pytest.mark.parametrize(
    ("kind", "raw", "clean"),
    [
        ("ip_range", "203.0.113.7/24", "203.0.113.0/24"),
        ("ip_range", "203.0.113.7", "203.0.113.7/32"),
        ("ip_range", "2001:DB8::1/48", "2001:db8::/48"),
        ("referrer_domain", "https://WWW.Example.com:8443/x?y", "www.example.com"),
        ("referrer_domain", "*.example.com", "example.com"),
        ("referrer_domain", "bücher.example", "xn--bcher-kva.example"),
        ("asn", "  google  llc ", "GOOGLE LLC"),
        ("sub_id", " Fb-7 ", "Fb-7"),
        ("publisher", "007", "7"),
    ],
)
def test_values_are_stored_in_their_normal_form(kind, raw, clean):
    assert value_clean(kind, raw, publishers={7}) == clean


@pytest.mark.parametrize(
    ("kind", "raw"),
    [("ip_range", "10.0.0.300"), ("referrer_domain", "not a domain"), ("asn", "AS15169"), ("publisher", "8"),
     ("sub_id", "  "), ("colour", "red")],
)  # fmt: skip
def test_bad_values_are_refused_with_a_reason(kind, raw):
    with pytest.raises(BadValue):
        value_clean(kind, raw, publishers={7})


def test_a_csv_without_a_header_is_refused_at_row_1_and_repeated_rows_count_once():
    assert csv_rows("source,pop\n", default_mode="block", publishers=set())[1][0]["row"] == 1
    rows, errors = csv_rows("kind,value,mode\nsource,pop,\nsource,pop,block\nsource,pop,allow\n",
                            default_mode="block", publishers=set())  # fmt: skip
    assert errors == []
    assert [(r.mode, r.value) for r in rows] == [("block", "pop"), ("allow", "pop")]
