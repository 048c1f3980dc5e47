"""Automation rules and their firings, as the API shows them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from affiliates.core.db import MAX_INT
from affiliates.models import Creative, Offer, Publisher
from affiliates.roles import actor_for
from payouts.automation.models import Firing, Rule, WebhookDelivery
from payouts.automation.selectors import scope_label, values_for
from tracking.models import AbVariant
from tracking.models.smartlinks import SmartPath

RULE_HELP = {
    "id": "The rule's id.",
    "name": "What the rule is for, shown in lists and alerts.",
    "scope": "What is measured and acted on: offer, publisher (on the offer), creative, variant (of an A/B "
    "test on the offer), smart_path (a smart link's path to the offer), sub_id (sub1) or source (a traffic "
    "source on the offer).",
    "offer": "The offer watched (every scope is on one offer).",
    "publisher": "Required for the publisher scope; narrows creative, sub id and source scopes to one "
    "publisher (a source narrowed so can only alert or call a webhook).",
    "creative": "Required for the creative scope: a creative of the offer. Clicks do not carry a creative, "
    "so its numbers are the offer's (narrowed by publisher and sub1 when given); pausing it hides it.",
    "variant": "Required for the variant scope: a variant of an A/B test on the offer (landing page or "
    "creative). Its numbers come from the variant's daily rollup, over the whole UTC days the window "
    "touches, for all its traffic (no publisher or sub1; roas and fraud_share are not measured); pausing "
    "it sends the test's clicks to its other variants.",
    "smart_path": "Required for the smart_path scope: a path of a smart link that sends traffic to the "
    "offer. Its numbers come from the path's daily rollup, over the whole UTC days the window touches, for "
    "all its traffic (no publisher or sub1; roas and fraud_share are not measured); pausing it sends its "
    "share to the link's other paths (never its last active one).",
    "sub1": "Required for the sub_id scope: the sub1 value watched (optional for creatives).",
    "source": "Required for the source scope: the traffic source watched, exactly as clicks carry it "
    "(the source parameter; conversions inherit it). Read from the hourly source rollup, for the whole "
    "offer or one publisher (no sub1); CPC and CPM earnings count by the source of the clicks and "
    "impressions they paid. Pausing adds the source to the offer's block list (clicks from it are then "
    "refused with reason blocked and sent to the fallback); resuming removes that entry. Pause and "
    "resume need the whole offer: with a publisher they are refused (400 source_pause_not_exact), "
    "as lists have no per-publisher entries.",
    "metric": "cpa, cvr, cpc, epc, roas, margin, clicks, conversions or fraud_share (the reports' "
    "definitions; epc and margin are network staff only).",
    "comparison": "gt, gte, lt or lte: how the metric is compared with the threshold.",
    "threshold": "Decimal string: in the offer's currency for cpa, cpc, epc and margin; a percentage for "
    "cvr and fraud_share; a ratio for roas; a count for clicks and conversions.",
    "window_hours": "The rolling window: this many UTC hours up to and including the current one.",
    "min_clicks": "Clicks the window must hold before the rule may fire.",
    "min_conversions": "Conversions the window must hold before the rule may fire.",
    "action": "pause, resume, set_cap, set_weight, alert or webhook. Pause and resume switch the scope's "
    "object (the offer, the publisher's access, the creative, the variant, the smart link's path, the "
    "source's block entry on the offer); a sub id can only alert or call a webhook, a source cannot set a "
    "cap (400 action_not_available). set_weight is for smart_path and variant scopes (a path of an "
    "optimised smart link refuses it: 400 weights_optimised).",
    "cap_metric": "set_cap: clicks, conversions, payout or revenue.",
    "cap_period": "set_cap: day, week or month.",
    "cap_limit": "set_cap: the new limit (the publisher's own cap for a publisher scope).",
    "weight": "set_weight: the path's or variant's new relative weight (0 to 2147483647); null otherwise.",
    "webhook_url": "webhook: where a signed JSON POST goes (public http(s) addresses only).",
    "webhook_secret": "Signs webhook bodies: X-Affnet-Signature: sha256=<hex HMAC-SHA256 of the body>.",
    "notify": "Also alert the advertiser's users by e-mail and in-app when it fires.",
    "cooldown_minutes": "After a firing, the rule stays quiet this long.",
    "check_every_minutes": "How often it is checked (default 5).",
    "is_active": "Inactive rules are not checked.",
    "next_check_at": "When it is next checked.",
    "last_checked_at": "When it was last checked.",
    "last_result": "What the last check found (below the minimum volume, cooling down, fired...).",
    "scope_label": "The scope in words.",
    "created_at": "When it was created.",
}


class RuleSerializer(serializers.ModelSerializer[Rule]):
    offer = serializers.PrimaryKeyRelatedField(queryset=Offer.objects.all(), help_text=RULE_HELP["offer"])
    publisher = serializers.PrimaryKeyRelatedField(
        queryset=Publisher.objects.all(), required=False, allow_null=True, help_text=RULE_HELP["publisher"]
    )
    creative = serializers.PrimaryKeyRelatedField(
        queryset=Creative.objects.all(), required=False, allow_null=True, help_text=RULE_HELP["creative"]
    )
    variant = serializers.PrimaryKeyRelatedField(
        queryset=AbVariant.objects.select_related("test"),
        required=False,
        allow_null=True,
        help_text=RULE_HELP["variant"],
    )
    smart_path = serializers.PrimaryKeyRelatedField(
        queryset=SmartPath.objects.select_related("smart_link"),
        required=False,
        allow_null=True,
        help_text=RULE_HELP["smart_path"],
    )
    weight = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_INT, help_text=RULE_HELP["weight"]
    )
    scope_label = serializers.SerializerMethodField(help_text=RULE_HELP["scope_label"])

    class Meta:
        model = Rule
        fields = list(RULE_HELP)
        read_only_fields = [
            "id",
            "webhook_secret",
            "next_check_at",
            "last_checked_at",
            "last_result",
            "created_at",
        ]
        extra_kwargs = {
            name: {"help_text": text} for name, text in RULE_HELP.items() if name != "scope_label"
        }

    def get_scope_label(self, rule: Rule) -> str:
        return scope_label(rule)


class WebhookSerializer(serializers.ModelSerializer[WebhookDelivery]):
    class Meta:
        model = WebhookDelivery
        fields = [
            "status",
            "attempts_count",
            "last_status_code",
            "last_error",
            "delivered_at",
            "next_attempt_at",
        ]
        extra_kwargs = {
            "status": {"help_text": "pending (queued or waiting to retry), delivered or failed (given up)."},
            "attempts_count": {"help_text": "HTTP tries so far."},
            "last_status_code": {"help_text": "HTTP status of the last try; null when it got no answer."},
            "last_error": {"help_text": "Why the last try failed."},
            "delivered_at": {"help_text": "When a try got a 2xx answer."},
            "next_attempt_at": {"help_text": "When the next try is due."},
        }


class FiringSerializer(serializers.ModelSerializer[Firing]):
    values = serializers.SerializerMethodField(
        help_text="Every metric of the window as decimal strings (null: undefined), as the caller's role may "
        "see them: advertisers see cost, never payout, EPC or margin."
    )
    undoable = serializers.BooleanField(
        read_only=True, help_text="Whether undo can still restore its change."
    )
    undone_by: serializers.StringRelatedField[Any] = serializers.StringRelatedField(
        allow_null=True, help_text="Who undid it; null while it stands."
    )
    webhook = WebhookSerializer(
        read_only=True, allow_null=True, help_text="The webhook call, for webhook rules."
    )
    rule_name = serializers.CharField(source="rule.name", read_only=True, help_text="The rule's name.")

    class Meta:
        model = Firing
        fields = [
            "id",
            "rule",
            "rule_name",
            "target",
            "window_start",
            "window_end",
            "metric_value",
            "values",
            "action",
            "outcome",
            "detail",
            "before",
            "after",
            "created_at",
            "undoable",
            "undone_at",
            "undone_by",
            "undo_detail",
            "webhook",
        ]
        extra_kwargs = {
            "id": {"help_text": "The firing's id."},
            "rule": {"help_text": "The rule that fired."},
            "target": {
                "help_text": "What it acted on: offer:<id>, access:<offer>:<publisher>, "
                "creative:<id>, variant:<id>, smart_path:<id>, sub1:<offer>:<publisher or *>, "
                "source:<offer>:<publisher or *>:<source, or # and a digest of a long one>."
            },
            "window_start": {"help_text": "First UTC hour of the window measured."},
            "window_end": {"help_text": "End of the window (exclusive)."},
            "metric_value": {"help_text": "The rule's metric in the window (decimal string)."},
            "action": {"help_text": "The action taken."},
            "outcome": {"help_text": "done, or failed (detail says why)."},
            "detail": {"help_text": "What the action did, in words."},
            "before": {"help_text": "The state it changed, as it was: what undo restores."},
            "after": {"help_text": "The state it set."},
            "created_at": {"help_text": "When it fired."},
            "undone_at": {"help_text": "When it was undone; null while it stands."},
            "undo_detail": {"help_text": "What undoing restored."},
        }

    @extend_schema_field({"type": "object", "additionalProperties": {"type": ["string", "null"]}})
    def get_values(self, firing: Firing) -> dict[str, Any]:
        return values_for(actor_for(self.context["request"].user), firing.values)
