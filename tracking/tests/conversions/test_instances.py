"""instances.instance_build: the postback's click and conversion, built as Django builds them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_init
from django.utils import timezone

from tracking.conversions.instances import instance_build
from tracking.conversions.services import conversion_new
from tracking.models import Click, Conversion
from tracking.tests.factories import click_make

FIELDS: dict[str, Any] = {
    "created_at": timezone.now(),
    "source": Conversion.Source.POSTBACK,
    "advertiser_id": 7,
    "offer_id": 8,
    "publisher_id": 9,
    "goal_id": 10,
    "txn_id": "T-1",
    "amount": Decimal("12.50"),
    "currency": "EUR",
    "status": "pending",
    "fraud_flags": ["fast"],
    "trace": {"verdict": {"status": "pending"}},
}


def test_a_new_conversion_is_the_instance_django_builds_from_the_same_fields() -> None:
    ours, django = conversion_new(dict(FIELDS)), Conversion(**FIELDS)
    assert {k: v for k, v in vars(ours).items() if k != "_state"} == {
        k: v for k, v in vars(django).items() if k != "_state"
    }
    assert (ours._state.adding, ours._state.db) == (True, None)
    assert ours.pk is None
    assert ours.dedupe_key is None
    assert ours.held_for_review is False
    bare = {k: v for k, v in FIELDS.items() if k != "fraud_flags"}
    first, second = conversion_new(dict(bare)), conversion_new(dict(bare))
    assert first.fraud_flags == []
    assert first.fraud_flags is not second.fraud_flags


def test_a_conversion_refuses_a_field_it_does_not_have() -> None:
    with pytest.raises(TypeError, match="offer"):
        conversion_new({**FIELDS, "offer": 8})


@pytest.mark.django_db
def test_a_loaded_click_is_the_instance_from_db_builds(shoes, pixelpush) -> None:
    stored = click_make(shoes, pixelpush, sub1="s1")
    names = [f.attname for f in Click._meta.concrete_fields]
    values = [getattr(stored, n) for n in names]
    ours = instance_build(Click, dict(zip(names, values, strict=True)), db=DEFAULT_DB_ALIAS)
    django = Click.from_db(DEFAULT_DB_ALIAS, names, values)
    assert {k: v for k, v in vars(ours).items() if k != "_state"} == {
        k: v for k, v in vars(django).items() if k != "_state"
    }
    assert (ours._state.adding, ours._state.db) == (False, DEFAULT_DB_ALIAS)
    assert ours.offer == shoes  # relations load as on any instance


def test_a_model_with_init_receivers_is_built_by_django_so_they_run() -> None:
    seen: list[Conversion] = []

    def receiver(sender: Any, instance: Conversion, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=Conversion)
    try:
        conv = conversion_new(dict(FIELDS))
    finally:
        post_init.disconnect(receiver, sender=Conversion)
    assert seen == [conv]
    assert seen[0] is conv
    assert conv.txn_id == "T-1"
