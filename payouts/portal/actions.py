"""Calls into other parts' services (payout runs, publisher postbacks), kept in one place.

Imports are lazy so the pages render whether or not those parts are installed; a missing part
raises ``ActionUnavailable`` and the page says so instead of failing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from affiliates.models import Publisher
from affiliates.roles import Actor
from payouts.models import PayoutRun


class ActionUnavailable(Exception):
    """The service behind this action is not installed in this build."""


def payout_run_build(*, period: date) -> None:
    """Build the period's run through the contract's command (section 8): once per period."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    try:
        call_command("run_payouts", period=period.strftime("%Y-%m"))
    except CommandError as exc:
        if "Unknown command" in str(exc):
            raise ActionUnavailable("Payout runs need the payout-run module.") from exc
        raise


def payout_run_approve(*, run: PayoutRun, actor: Actor, reference: str = "") -> Any:
    from django.contrib.auth import get_user_model

    from payouts.payout_runs import payout_run_approve as approve

    user = get_user_model().objects.filter(pk=actor.user_id or 0).first()
    return approve(run=run, user=user)


def payout_run_mark_paid(*, run: PayoutRun, actor: Actor, reference: str = "") -> Any:
    """Mark every approved payout of the run paid with one payment (batch) reference."""
    from payouts.payout_runs import payout_run_mark_paid as mark_paid

    return mark_paid(run=run, reference=reference)


def _postbacks() -> tuple[Any, Any]:
    try:
        from payouts.postbacks import selectors, services
    except ImportError as exc:
        raise ActionUnavailable("Publisher postbacks are not installed in this build.") from exc
    return selectors, services


def postback_list(*, publisher: Publisher) -> Any:
    selectors, _ = _postbacks()
    return selectors.postback_list(publisher=publisher)


def postback_attempts(*, publisher: Publisher, limit: int = 100) -> Any:
    selectors, _ = _postbacks()
    return selectors.postback_attempts(publisher=publisher, limit=limit)


def postback_save(*, publisher: Publisher, url: str, offer: Any, goal: Any, events: list[str]) -> Any:
    _, services = _postbacks()
    return services.postback_save(publisher=publisher, url=url, offer=offer, goal=goal, events=events)


def postback_test_fire(*, publisher: Publisher, postback_id: int) -> Any:
    _, services = _postbacks()
    return services.postback_test_fire(publisher=publisher, postback_id=postback_id)


def postback_resend(*, publisher: Publisher, attempt_id: int) -> Any:
    _, services = _postbacks()
    return services.postback_resend(publisher=publisher, attempt_id=attempt_id)
