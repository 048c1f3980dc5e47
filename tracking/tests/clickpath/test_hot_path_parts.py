"""The hot path's cheap parts give the answers of the slow ones they stand in for: the bounded
user-agent caches, the query reader, the landing templates compiled per link, the datacenter
verdict, the row builder, and the batched stream entries of the group commit."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qsl, quote

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from tracking import visitor
from tracking.clickpath import lines, redis_conn, rules, store, visitor_ids, writer
from tracking.clickpath.aio_redis import ScriptBatcher
from tracking.clickpath.handler import MAX_FIELDS, _params
from tracking.clickpath.snapshots import Target
from tracking.models.clicks import ClickFlag
from tracking.tests.clickpath.conftest import DESKTOP_UA, IPHONE_UA

WEBKIT = "AppleWebKit/537.36 (KHTML, like Gecko)"
USER_AGENTS = [
    DESKTOP_UA,
    IPHONE_UA,
    f"Mozilla/5.0 (Linux; Android 14; SM-X710) {WEBKIT} Chrome/124.0 Safari/537.36",
    f"Mozilla/5.0 (Linux; Android 14; Pixel 8) {WEBKIT} Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15",
    f"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) {WEBKIT} Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
    "python-requests/2.32.0",
    "",
    "   ",
]


@pytest.mark.parametrize("ua", USER_AGENTS)
def test_the_cached_user_agent_facts_equal_the_parsers_answers(ua: str) -> None:
    visitor.ua_facts.cache_clear()
    expected_device = visitor._device_for_ua(ua)
    expected_bot = visitor._is_bot(ua)
    for _ in range(2):  # the miss, then the hit
        facts = visitor.ua_facts(ua)
        assert (facts.device, facts.os, facts.is_bot) == (
            expected_device.device, expected_device.os, expected_bot
        )  # fmt: skip
    assert visitor.is_bot(ua) is expected_bot


def test_the_user_agent_caches_stay_bounded_under_a_flood_of_unique_strings() -> None:
    visitor.ua_facts.cache_clear()
    for n in range(visitor.UA_CACHE_SIZE + 500):
        visitor.ua_facts(f"x{n}")
    assert visitor.ua_facts.cache_info().maxsize == visitor.UA_CACHE_SIZE
    assert visitor.ua_facts.cache_info().currsize == visitor.UA_CACHE_SIZE
    # is_bot answers from that same bounded cache, not from a cache of its own.
    before = visitor.ua_facts.cache_info()
    visitor.is_bot("a string not seen yet")
    visitor.ua_facts("a string not seen yet")
    after = visitor.ua_facts.cache_info()
    assert (after.misses, after.hits) == (before.misses + 1, before.hits + 1)
    assert after.currsize == visitor.UA_CACHE_SIZE
    # The newest strings survived the eviction and still answer like the parser.
    newest = f"x{visitor.UA_CACHE_SIZE + 499}"
    assert visitor.ua_facts(newest).is_bot is visitor._is_bot(newest)


def test_a_network_is_a_datacenter_exactly_when_its_name_matches_the_pattern() -> None:
    assert visitor.Network("US", "AMAZON-02").is_datacenter
    assert visitor.Network("DE", "Hetzner Online GmbH").is_datacenter
    assert not visitor.Network("US", "COMCAST-7922").is_datacenter
    assert not visitor.Network("", "").is_datacenter
    assert visitor.network_for_ip("") == visitor.Network("", "")


query_text = st.text(alphabet="ab=&%+;2F41é ", max_size=40)


@given(query_text)
def test_the_query_is_read_as_parse_qsl_reads_it(qs: str) -> None:
    assert _params({"QUERY_STRING": qs}) == dict(parse_qsl(qs, keep_blank_values=True))


def test_a_query_with_too_many_fields_keeps_the_first_ones() -> None:
    qs = "&".join(f"f{n}=v" for n in range(MAX_FIELDS + 50)) + "&sub1=late"
    params = _params({"QUERY_STRING": "sub1=first&" + qs})
    assert len(params) == MAX_FIELDS
    assert params["sub1"] == "first"


def test_a_row_cuts_each_text_to_its_column_and_drops_nul() -> None:
    row = writer._click_row(
        {
            "kind": "c", "id": "0190f1e2a3b47c8d9e0f112233445566", "created_at": 1_720_000_000_000,
            "offer_id": 1, "publisher_id": 2, "ip": "1.2.3.4", "user_agent": "u" * 600,
            "country": "USA", "device": "desktop", "os": "linux", "sub1": "a\x00b", "sub2": 7,
            "sub3": None, "sub4": "", "sub5": "s" * 300, "source": "", "referer": "r" * 2000,
            "is_unique": None, "reason": "", "fraud_flags": ["bot", "flood"], "fallback_offer_id": None,
        }
    )  # fmt: skip
    values = dict(zip(writer.CLICK_COLUMNS, row, strict=True))
    assert len(values["user_agent"]) == 512
    assert values["country"] == "US"
    assert values["sub1"] == "ab"
    assert values["sub2"] == "7"
    assert values["sub3"] == ""
    assert len(values["sub5"]) == 255
    assert len(values["referer"]) == 1024
    assert values["is_unique"] is True
    assert json.loads(values["fraud_flags"]) == ["bot", "flood"]
    assert values["created_at"].timestamp() == 1_720_000_000


def test_a_stream_entry_holds_a_batch_of_lines_and_each_comes_back_as_its_record() -> None:
    click = {
        "kind": "c", "id": "0190f1e2a3b47c8d9e0f112233445566", "created_at": 1_720_000_000_123,
        "offer_id": 1, "publisher_id": 2, "ip": "1.2.3.4", "user_agent": "ua", "country": "US",
        "device": "desktop", "os": "linux", "sub1": "tab\there", "sub2": "", "sub3": "", "sub4": "",
        "sub5": "", "source": "", "referer": "", "reason": "", "fraud_flags": ["bot"],
        "fallback_if_refused": 9,
    }  # fmt: skip
    impression = {k: v for k, v in click.items() if k in lines.TRAFFIC} | {"kind": "i"}
    joined = lines.click_line(click) + "\tcap_reached 0 1\n" + lines.impression_line(impression) + "\t1 0"
    entry = {b"x": joined.encode()}
    got_click, got_impression = [lines.line_record(line) for line in store.entry_lines(entry)]
    assert got_click["sub1"] == "tab\there"
    assert got_click["reason"] == "cap_reached"
    assert got_click["is_unique"] is False
    assert got_click["fraud_flags"] == ["bot", ClickFlag.DUPLICATE, ClickFlag.FLOOD]
    assert got_click["fallback_offer_id"] == 9
    assert got_impression == {**impression, "is_unique": True, "fraud_flags": []}
    assert [key.decode() for key in lines.click_keys(store.entry_lines(entry), b"")] == [click["id"]]


@pytest.mark.redis
def test_the_lines_of_one_batch_become_one_stream_entry_and_a_failing_call_fails_alone() -> None:
    client = redis_conn.client()
    assert client is not None
    stream = f"t-gc-{uuid.uuid4().hex}"
    body = "if ARGV[1] == 'bad' then return redis.call('INCR', KEYS[1], 'x') end "
    body += "stream_add(KEYS[1], ARGV[1]) return ARGV[1]"
    batcher = ScriptBatcher(settings.REDIS_URL, body, timeout=5)

    async def main() -> list[Any]:
        calls = (batcher([stream], [line]) for line in ("a", "bad", "b\tc"))
        return await asyncio.gather(*calls, return_exceptions=True)

    with ThreadPoolExecutor(1) as pool:  # a loop of its own (Playwright may hold this thread's)
        good, bad, other = pool.submit(asyncio.run, main()).result()
    assert (good, other) == (b"a", b"b\tc")
    assert isinstance(bad, Exception)
    entries: Any = client.xrange(stream)
    assert [fields for _, fields in entries] == [{b"x": b"a\nb\tc"}]
    client.delete(stream)


def test_the_visitor_hash_is_the_keyed_blake2b_of_address_and_browser_in_every_salt_period() -> None:
    # BLAKE2b of "<ip>|<user agent>" (the address alone for the flood counter), the period's
    # 32 secret bytes as its salt and personalisation (visitor_ids._keyed).
    day = 86_400
    for now in (1_720_000_000.0, 1_720_000_000.0 + visitor_ids.SALT_DAYS * day, 1_720_000_000.0):
        secret = visitor_ids.salt_key(int(now // (visitor_ids.SALT_DAYS * day)))
        keyed = {"digest_size": 10, "salt": secret[:16], "person": secret[16:]}
        expected = hashlib.blake2b(f"1.2.3.4|{DESKTOP_UA}".encode(), **keyed).hexdigest()  # type: ignore[arg-type]
        assert visitor_ids.visitor_hash("1.2.3.4", DESKTOP_UA, now=now) == expected
        address = hashlib.blake2b(b"1.2.3.4", **keyed).hexdigest()  # type: ignore[arg-type]
        assert visitor_ids.address_hash("1.2.3.4", now=now) == address
        assert expected != hashlib.blake2b(f"1.2.3.4|{DESKTOP_UA}".encode(), digest_size=10).hexdigest()
    assert visitor_ids.visitor_hash("1.2.3.4", DESKTOP_UA, now=0.0) != visitor_ids.visitor_hash(
        "1.2.3.5", DESKTOP_UA, now=0.0
    )
    assert visitor_ids.visitor_hash("1.2.3.4", DESKTOP_UA, now=0.0) != visitor_ids.visitor_hash(
        "1.2.3.4", DESKTOP_UA, now=visitor_ids.SALT_DAYS * day
    )


def test_a_new_secret_key_makes_new_visitor_ids(settings: Any) -> None:
    before = visitor_ids.visitor_hash("1.2.3.4", DESKTOP_UA, now=0.0)
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert visitor_ids.visitor_hash("1.2.3.4", DESKTOP_UA, now=0.0) != before


def _landing_as_rendered_per_click(
    template: str, rec: dict[str, Any], offer_id: int, publisher_id: int
) -> str:
    """The landing URL as the click path built it before templates were compiled per link:
    every macro matched in the raw template and replaced by its percent-encoded value, then
    ``click_id=`` added to the rendered URL when the template has no ``{click_id}``."""
    values = {"click_id": rec["id"], "offer_id": str(offer_id), "publisher_id": str(publisher_id)}
    values |= {name: rec[name] for name in ("sub1", "sub2", "sub3", "sub4", "sub5", "source")}
    url = re.sub("{(" + "|".join(rules.MACROS) + ")}", lambda m: quote(values[m.group(1)], safe=""), template)
    if "{click_id}" not in template:
        base, hash_sign, fragment = url.partition("#")
        joiner = "" if base.endswith(("?", "&")) else ("&" if "?" in base else "?")
        url = f"{base}{joiner}click_id={rec['id']}{hash_sign}{fragment}"
    return url


TEMPLATE_BITS = st.sampled_from(
    ["https://x.example/", "?", "&", "#", "a=", "{sub{offer_id}}", "{click_id}", "{offer_id}",
     "{publisher_id}", "{sub1}", "{sub2}", "{source}", "{nope}", "/p", "é"]
)  # fmt: skip
MACRO_VALUE = st.sampled_from(["", "abc", "a b", "x&y=z", "#frag", "?q", "é", "\\"])


@given(bits=st.lists(TEMPLATE_BITS, max_size=8), sub1=MACRO_VALUE, sub2=MACRO_VALUE, source=MACRO_VALUE)
def test_a_template_compiled_per_link_renders_what_it_rendered_per_click(bits, sub1, sub2, source) -> None:
    template = "".join(bits)
    rec = {"id": "0190f1e2a3b47c8d9e0f112233445566", "sub1": sub1, "sub2": sub2, "sub3": "", "sub4": "",
           "sub5": "", "source": source}  # fmt: skip
    target = Target(7, template, 30)
    assert rules.offer_url(target, rec, 9) == _landing_as_rendered_per_click(template, rec, 7, 9)
