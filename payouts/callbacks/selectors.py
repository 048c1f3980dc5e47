"""Reads for postbacks: which endpoint a commission fires."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from payouts.models.callbacks import CallbackEndpoint


@dataclass
class EndpointIndex:
    """Active endpoints of some publishers, keyed for the most-specific-wins lookup."""

    by_goal: dict[tuple[int, int], CallbackEndpoint] = field(default_factory=dict)
    by_offer: dict[tuple[int, int], CallbackEndpoint] = field(default_factory=dict)
    global_: dict[int, CallbackEndpoint] = field(default_factory=dict)

    def most_specific(self, *, publisher_id: int, offer_id: int, goal_id: int) -> CallbackEndpoint | None:
        return (
            self.by_goal.get((publisher_id, goal_id))
            or self.by_offer.get((publisher_id, offer_id))
            or self.global_.get(publisher_id)
        )


def endpoint_index(publisher_ids: Iterable[int]) -> EndpointIndex:
    """One query for every active endpoint of these publishers."""
    index = EndpointIndex()
    for ep in CallbackEndpoint.objects.filter(publisher_id__in=set(publisher_ids), is_active=True):
        if ep.goal_id is not None:
            index.by_goal[(ep.publisher_id, ep.goal_id)] = ep
        elif ep.offer_id is not None:
            index.by_offer[(ep.publisher_id, ep.offer_id)] = ep
        else:
            index.global_[ep.publisher_id] = ep
    return index
