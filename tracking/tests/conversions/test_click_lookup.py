"""click_lookup: a click by id, from the table or still pending in Redis, in the order asked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone

from tracking.conversions import click_lookup
from tracking.conversions.click_lookup import click_find, clicks_find
from tracking.ids import click_id_parse, new_click_id
from tracking.models import Click
from tracking.tests.factories import click_make


@pytest.mark.django_db
def test_clicks_find_returns_each_id_in_order(shoes, pixelpush):
    first, second = click_make(shoes, pixelpush), click_make(shoes, pixelpush)
    found = clicks_find([second.id, new_click_id(1), first.id])
    assert [c.pk if c else None for c in found] == [second.id, None, first.id]
    assert found[0] is not None
    assert model_to_dict(found[0]) == model_to_dict(second)
    assert clicks_find([]) == []


def test_click_find_finds_a_click_before_and_after_the_consumer_writes_it(edge, shoes_link, drain, settings):
    response = edge.get(f"/c/{shoes_link.token}", {"sub2": "pending"}, REMOTE_ADDR="8.8.8.8")
    click_id = click_id_parse(response.cookies[f"affc_{shoes_link.offer_id}"].value)
    assert click_id is not None
    before = click_find(click_id=click_id)
    assert before is not None
    assert (before.offer_id, before.publisher_id, before.sub2, before.reason) == (
        shoes_link.offer_id, shoes_link.publisher_id, "pending", ""
    )  # fmt: skip
    if settings.REDIS_URL:
        assert not Click.objects.filter(pk=click_id).exists()  # still only in Redis
    drain()
    after = click_find(click_id=click_id)
    assert after is not None
    assert after.pk == click_id
    assert after._state.adding is False
    assert click_find(click_id=click_id_parse("0" * 32)) is None  # type: ignore[arg-type]


@pytest.mark.django_db
def test_a_click_the_consumer_commits_during_the_lookup_is_still_found(shoes, pixelpush, monkeypatch):
    """Database miss, then the consumer commits the click and deletes its Redis copy, then the
    Redis miss: the second database query finds it (click_lookup's ordering argument)."""
    at = timezone.now()
    click = Click(
        id=new_click_id(int(at.timestamp() * 1000)), offer=shoes, publisher=pixelpush, created_at=at
    )

    def consumer_commits_meanwhile(click_ids: Sequence[Any]) -> list[None]:
        click.save(force_insert=True)
        return [None] * len(click_ids)

    monkeypatch.setattr(click_lookup, "_pending_clicks", consumer_commits_meanwhile)
    found = clicks_find([click.id])[0]
    assert found is not None
    assert found.pk == click.id
