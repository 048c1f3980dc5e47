"""Building payout runs: balances as of the period end, thresholds, carry-over and netting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from affiliates.core.errors import Conflict, DomainError
from affiliates.models import FxRate, Publisher
from affiliates.network_terms import network_terms_set
from affiliates.tests.factories import PublisherFactory
from payouts.models import Payout, PayoutRun
from payouts.payout_build import payout_run_build, payout_run_start
from payouts.payout_runs import payout_fail, payout_mark_paid, payout_run_approve
from payouts.tests.factories_payouts import approve_balance, mid, reverse_balance

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)


def build(period: date, **kwargs: object) -> PayoutRun:
    run, _ = payout_run_start(period=period)
    payout_run_build(run_id=run.pk, **kwargs)  # type: ignore[arg-type]
    run.refresh_from_db()
    return run


def amounts(run: PayoutRun) -> dict[tuple[int, str], Decimal]:
    return {(p.publisher_id, p.currency): p.amount for p in run.payouts.all()}


def pay(run: PayoutRun) -> None:
    payout_run_approve(run=run)
    for payout in run.payouts.all():
        payout_mark_paid(payout=payout, reference=f"REF-{payout.pk}")


def test_it_pays_the_approved_balance_earned_up_to_the_period_end(pixelpush: Publisher) -> None:
    approve_balance(pixelpush, "120.00", at=mid(JAN))
    approve_balance(pixelpush, "30.00", at=datetime(2024, 2, 1, 0, 0, tzinfo=UTC))  # first instant of Feb

    run = build(JAN)

    assert run.status == PayoutRun.Status.DRAFT
    payout = run.payouts.get()
    assert (payout.publisher_id, payout.period, payout.currency, payout.amount) == (
        pixelpush.pk,
        JAN,
        "USD",
        Decimal("120.00"),
    )
    assert payout.method == pixelpush.payout_method
    assert (run.progress_done, run.progress_total) == (1, 1)


def test_running_it_again_creates_nothing_new(pixelpush: Publisher) -> None:
    approve_balance(pixelpush, "120.00", at=mid(JAN))
    run = build(JAN)
    approve_balance(pixelpush, "80.00", at=mid(JAN))  # late data does not reopen a built run

    again, created = payout_run_start(period=JAN)
    result = payout_run_build(run_id=again.pk)

    assert not created
    assert again.pk == run.pk
    assert not result.built_now
    assert result.created == 0
    assert amounts(run) == {(pixelpush.pk, "USD"): Decimal("120.00")}
    assert PayoutRun.objects.count() == 1


def test_a_balance_under_the_minimum_carries_over_to_the_next_run(pixelpush: Publisher) -> None:
    approve_balance(pixelpush, "30.00", at=mid(JAN))
    jan = build(JAN)
    approve_balance(pixelpush, "25.00", at=mid(FEB))

    feb = build(FEB)

    assert jan.payouts.count() == 0
    assert amounts(feb) == {(pixelpush.pk, "USD"): Decimal("55.00")}


def test_a_publisher_with_no_minimum_is_paid_any_positive_balance(db: None) -> None:
    small = PublisherFactory(minimum_payout=Decimal("0"))
    approve_balance(small, "0.01", at=mid(JAN))

    assert amounts(build(JAN)) == {(small.pk, "USD"): Decimal("0.01")}


def test_a_reversal_after_payout_leaves_a_negative_balance_the_next_payout_nets(
    pixelpush: Publisher,
) -> None:
    approve_balance(pixelpush, "100.00", at=mid(JAN))
    pay(build(JAN))
    reverse_balance(pixelpush, "30.00", at=mid(FEB))
    approve_balance(pixelpush, "20.00", at=mid(FEB))

    feb = build(FEB)
    approve_balance(pixelpush, "80.00", at=mid(MAR))
    mar = build(MAR)

    assert feb.payouts.count() == 0  # owed 100 - 30 + 20 = 90, already paid 100: -10
    assert amounts(mar) == {(pixelpush.pk, "USD"): Decimal("70.00")}


def test_an_approved_but_unpaid_payout_already_covers_its_amount(pixelpush: Publisher) -> None:
    approve_balance(pixelpush, "100.00", at=mid(JAN))
    payout_run_approve(run=build(JAN))
    approve_balance(pixelpush, "60.00", at=mid(FEB))

    assert amounts(build(FEB)) == {(pixelpush.pk, "USD"): Decimal("60.00")}


def test_a_failed_payout_returns_its_amount_to_the_next_run(pixelpush: Publisher) -> None:
    approve_balance(pixelpush, "100.00", at=mid(JAN))
    jan = build(JAN)
    payout_fail(payout=jan.payouts.get(), reason="Account closed")

    assert amounts(build(FEB)) == {(pixelpush.pk, "USD"): Decimal("100.00")}


def test_balances_are_paid_per_currency(pixelpush: Publisher) -> None:
    FxRate.objects.create(base="USD", quote="EUR", rate=Decimal("0.9"), valid_from=mid(JAN))
    approve_balance(pixelpush, "70.00", at=mid(JAN))
    approve_balance(pixelpush, "60.00", at=mid(JAN), currency="EUR")

    assert amounts(build(JAN)) == {
        (pixelpush.pk, "USD"): Decimal("70.00"),
        (pixelpush.pk, "EUR"): Decimal("60.00"),
    }


def test_the_minimum_is_converted_at_the_rate_in_force_at_the_period_end(db: None) -> None:
    # minimum 50 USD; 1 USD = 0.9 EUR at the end of January (the February rate is not yet in force).
    FxRate.objects.create(base="USD", quote="EUR", rate=Decimal("0.9"), valid_from=mid(JAN))
    FxRate.objects.create(base="USD", quote="EUR", rate=Decimal("2"), valid_from=mid(FEB))
    under = PublisherFactory(payout_currency="USD", minimum_payout=Decimal("50"))
    over = PublisherFactory(payout_currency="USD", minimum_payout=Decimal("50"))
    approve_balance(under, "44.99", at=mid(JAN), currency="EUR")
    approve_balance(over, "45.00", at=mid(JAN), currency="EUR")

    assert amounts(build(JAN)) == {(over.pk, "EUR"): Decimal("45.00")}


def test_the_inverse_rate_converts_the_minimum_when_only_the_other_pair_exists(db: None) -> None:
    FxRate.objects.create(base="EUR", quote="USD", rate=Decimal("1.25"), valid_from=mid(JAN))
    publisher = PublisherFactory(payout_currency="USD", minimum_payout=Decimal("50"))
    approve_balance(publisher, "40.00", at=mid(JAN), currency="EUR")  # 50 USD = 40 EUR

    assert amounts(build(JAN)) == {(publisher.pk, "EUR"): Decimal("40.00")}


def test_a_balance_with_no_rate_to_convert_the_minimum_is_held(pixelpush: Publisher) -> None:
    approve_balance(pixelpush, "100000", at=mid(JAN), currency="JPY")
    run, _ = payout_run_start(period=JAN)

    result = payout_run_build(run_id=run.pk)

    assert result.held_no_fx_rate == 1
    held = run.payouts.get()
    assert (held.status, held.hold_reason, held.payout_amount) == ("held", "no_fx_rate", None)


def test_suspended_publishers_are_held_until_reinstated(pixelpush: Publisher) -> None:
    Publisher.objects.filter(pk=pixelpush.pk).update(status=Publisher.Status.SUSPENDED)
    approve_balance(pixelpush, "100.00", at=mid(JAN))
    run, _ = payout_run_start(period=JAN)
    assert payout_run_build(run_id=run.pk).held_publisher_status == 1
    assert run.payouts.get().hold_reason == "publisher_suspended"
    Publisher.objects.filter(pk=pixelpush.pk).update(status=Publisher.Status.ACTIVE)

    assert amounts(build(FEB)) == {(pixelpush.pk, "USD"): Decimal("100.00")}


def test_the_payout_keeps_a_snapshot_of_the_payment_details(pixelpush: Publisher) -> None:
    Publisher.objects.filter(pk=pixelpush.pk).update(
        payout_method="wire", payout_details={"iban": "DE89370400440532013000"}
    )
    approve_balance(pixelpush, "100.00", at=mid(JAN))
    run = build(JAN)
    Publisher.objects.filter(pk=pixelpush.pk).update(payout_details={"iban": "changed"})

    payout = run.payouts.get()
    assert (payout.method, payout.details) == ("wire", {"iban": "DE89370400440532013000"})


def test_it_refuses_a_period_that_has_not_ended(db: None) -> None:
    with pytest.raises(DomainError) as err:
        payout_run_start(period=date(2999, 1, 1))
    assert err.value.code == "period_open"


def test_it_reports_progress_chunk_by_chunk(db: None) -> None:
    publishers = PublisherFactory.create_batch(5)
    for publisher in publishers:
        approve_balance(publisher, "75.00", at=mid(JAN))
    seen: list[tuple[int, int]] = []
    run, _ = payout_run_start(period=JAN)

    result = payout_run_build(run_id=run.pk, chunk_size=2, on_progress=lambda d, t: seen.append((d, t)))

    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert result.created == 5
    assert result.totals == {"USD": "375.00"}
    run.refresh_from_db()
    assert (run.progress_done, run.progress_total, run.status) == (5, 5, PayoutRun.Status.DRAFT)
    assert Payout.objects.filter(run=run).count() == 5


def test_payouts_are_made_in_the_payout_currency_at_the_rate_in_force_at_the_period_end(db: None) -> None:
    FxRate.objects.create(base="EUR", quote="USD", rate=Decimal("1.25"), valid_from=mid(JAN))
    FxRate.objects.create(base="EUR", quote="USD", rate=Decimal("2"), valid_from=mid(FEB))  # too late
    publisher = PublisherFactory(payout_currency="EUR", minimum_payout=Decimal("50"))
    approve_balance(publisher, "100.00", at=mid(JAN))  # USD
    approve_balance(publisher, "20.00", at=mid(JAN), currency="EUR")

    payouts = {p.currency: p for p in build(JAN).payouts.all()}

    usd, eur = payouts["USD"], payouts["EUR"]
    assert (usd.amount, usd.payout_currency, usd.fx_rate, usd.payout_amount) == (
        Decimal("100.00"), "EUR", Decimal("0.8"), Decimal("80.00"),
    )  # fmt: skip
    assert usd.fx_rate_at == mid(JAN)
    assert (eur.payout_currency, eur.fx_rate, eur.payout_amount) == ("EUR", Decimal("1"), Decimal("20.00"))


def test_the_threshold_is_met_by_the_total_in_the_payout_currency(db: None) -> None:
    FxRate.objects.create(base="EUR", quote="USD", rate=Decimal("1.25"), valid_from=mid(JAN))
    publisher = PublisherFactory(payout_currency="EUR", minimum_payout=Decimal("50"))
    approve_balance(publisher, "40.00", at=mid(JAN))  # 32 EUR
    approve_balance(publisher, "20.00", at=mid(JAN), currency="EUR")  # 52 EUR in all

    assert sorted(p.currency for p in build(JAN).payouts.all()) == ["EUR", "USD"]


def test_a_publisher_without_payout_details_is_held_with_a_reason_and_never_paid(
    pixelpush: Publisher,
) -> None:
    Publisher.objects.filter(pk=pixelpush.pk).update(payout_details={"account": " "})
    approve_balance(pixelpush, "100.00", at=mid(JAN))
    run = build(JAN)
    payout_run_approve(run=run)

    held = run.payouts.get()
    with pytest.raises(Conflict) as refused:
        payout_mark_paid(payout=held, reference="WIRE-1")
    held.refresh_from_db()
    run.refresh_from_db()
    assert (held.status, held.hold_reason, refused.value.code) == ("held", "no_payout_details", "payout_held")
    assert run.status == PayoutRun.Status.PAID  # nothing left to pay in it
    Publisher.objects.filter(pk=pixelpush.pk).update(payout_details={"account": "pay@pixelpush.example"})
    assert amounts(build(FEB)) == {(pixelpush.pk, "USD"): Decimal("100.00")}


def test_the_network_floor_lifts_a_lower_publisher_minimum(pixelpush: Publisher) -> None:
    network_terms_set(minimum_payout=Decimal("100"), currency="USD")
    Publisher.objects.filter(pk=pixelpush.pk).update(minimum_payout=Decimal("10"))  # saved before the floor
    approve_balance(pixelpush, "99.99", at=mid(JAN))

    assert build(JAN).payouts.count() == 0
    approve_balance(pixelpush, "0.01", at=mid(FEB))
    assert amounts(build(FEB)) == {(pixelpush.pk, "USD"): Decimal("100.00")}


def test_its_progress_counts_only_the_publishers_with_a_balance_to_pay(db: None) -> None:
    paid_before = PublisherFactory.create_batch(3)
    for publisher in paid_before:  # January's money, paid by January's run: nothing left in February
        approve_balance(publisher, "50.00", at=mid(JAN))
    build(JAN)
    owed = PublisherFactory.create_batch(2)
    for publisher in owed:
        approve_balance(publisher, "60.00", at=mid(FEB))

    run = build(FEB)

    assert (run.progress_done, run.progress_total) == (2, 2)
    assert set(run.payouts.values_list("publisher_id", flat=True)) == {p.pk for p in owed}
