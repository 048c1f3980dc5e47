"""params.request_params: a postback's parameters, read as parse_qsl reads them."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from tracking.conversions.outcome import PostbackError
from tracking.conversions.params import request_params

QUERIES = [
    "",
    "&",
    "a=1&b=2",
    "a=1&&b=",
    "a&b=2",
    "=x&a==b=c",
    "click_id=0123456789abcdef0123&goal=lead&txn_id=T-1&token=abc",
    "sub1=caf%C3%A9&a=b+c",  # escaped: parse_qsl itself
    "a=1+2&b=%2B",
    "a=1;b=2",
]


@pytest.mark.parametrize("query", QUERIES)
def test_a_query_reads_as_parse_qsl_reads_it(query: str) -> None:
    expected: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        expected[name] = value
    assert request_params(method="GET", query=query.encode(), content_type="", body=b"") == expected


@pytest.mark.parametrize("query", ["a=1&" * 10 + "a=1", "a%20b=1&" * 10 + "x=1"])
def test_too_many_parameters_are_refused_escaped_or_not(query: str, settings) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    with pytest.raises(PostbackError) as refused:
        request_params(method="GET", query=query.encode(), content_type="", body=b"")
    assert (refused.value.http_status, refused.value.reason) == (400, "bad_parameter")
