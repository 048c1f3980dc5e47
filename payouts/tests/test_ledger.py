"""Ledger accounts: one per kind, owner and currency, on SQLite as on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from payouts.ledger import account_get
from payouts.models import Account

pytestmark = pytest.mark.django_db
K = Account.Kind


def test_a_second_network_account_of_the_same_kind_and_currency_is_refused() -> None:
    Account.objects.create(kind=K.NETWORK_CASH, currency="USD")

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind=K.NETWORK_CASH, currency="USD")


def test_a_second_publisher_account_of_the_same_kind_and_currency_is_refused(pixelpush: Any) -> None:
    Account.objects.create(kind=K.PUBLISHER_PAYABLE, currency="USD", publisher=pixelpush)

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(kind=K.PUBLISHER_PAYABLE, currency="USD", publisher=pixelpush)


def test_other_owners_and_currencies_get_accounts_of_their_own(pixelpush: Any, rival: Any) -> None:
    accounts = {
        account_get(kind=K.PUBLISHER_PAYABLE, currency="USD", publisher_id=pixelpush.id),
        account_get(kind=K.PUBLISHER_PAYABLE, currency="USD", publisher_id=rival.id),
        account_get(kind=K.PUBLISHER_PAYABLE, currency="EUR", publisher_id=pixelpush.id),
        account_get(kind=K.NETWORK_CASH, currency="USD"),
    }

    assert len(accounts) == 4
    assert account_get(kind=K.NETWORK_CASH, currency="USD") in accounts
    assert Account.objects.count() == 4
