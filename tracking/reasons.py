"""Reason codes of tracking's answers (contract section 3).

They sit beside the models, below the request paths, because the models need them too: a
conversion refused by one of these rules at recording earns nothing whatever status updates
arrive later.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # 200 rejected: a business rule refused it; recorded for audit, earns nothing.
    UNKNOWN_CLICK = "unknown_click"
    UNKNOWN_COUPON = "unknown_coupon"
    WINDOW_EXPIRED = "window_expired"
    CAP_REACHED = "cap_reached"
    OFFER_INACTIVE = "offer_inactive"
    NOT_APPROVED = "not_approved"
    ADVERTISER_REJECTED = "advertiser_rejected"  # a new conversion posted with status=rejected
    HELD_FOR_REVIEW = "held_for_review"  # an approval refused while fraud review is pending
    NOT_UPDATABLE = "not_updatable"  # a status update on a conversion our rules rejected
    # A status update the lifecycle's rules refuse (tracking.lifecycle.Refusal has the same codes).
    STATUS_FINAL = "status_final"  # it is rejected or reversed, which is final
    NETWORK_DECISION = "network_decision"  # ... by the network's own decision (fraud, staff)
    INVALID_TRANSITION = "invalid_transition"  # e.g. approved -> rejected: send reversed
    # A second conversion of one click on a goal that allows one (another txn_id): kept, earns nothing.
    CLICK_ALREADY_CONVERTED = "click_already_converted"
    # Slower than the offer's max_click_to_conversion_seconds, with slow_conversion_action "reject".
    CLICK_TO_CONVERSION_TOO_SLOW = "click_to_conversion_too_slow"
    # The click's visitor was held out by an incrementality test: measured, earns nothing.
    HOLDOUT_CONTROL = "holdout_control"
    # 400: malformed input, nothing recorded.
    BAD_PARAMETER = "bad_parameter"
    BAD_CLICK_ID = "bad_click_id"
    MISSING_CLICK_ID = "missing_click_id"
    BAD_AMOUNT = "bad_amount"  # also: more decimals than the currency's minor unit
    AMOUNT_OVER_MAX = "amount_over_max"  # over the offer's max_sale_amount (or the network's)
    MISSING_AMOUNT = "missing_amount"
    UNKNOWN_CURRENCY = "unknown_currency"
    UNKNOWN_GOAL = "unknown_goal"
    GOAL_NOT_CONVERTIBLE = "goal_not_convertible"
    BAD_STATUS = "bad_status"
    BAD_TXN_ID = "bad_txn_id"
    BAD_CUSTOMER_ID = "bad_customer_id"  # customer_id over MAX_CUSTOMER_ID_LENGTH characters
    BAD_CUSTOMER_TYPE = "bad_customer_type"  # customer_type other than new or returning
    UNKNOWN_TXN_ID = "unknown_txn_id"
    AMBIGUOUS_TXN_ID = "ambiguous_txn_id"
    UNSUPPORTED_BODY = "unsupported_body"  # a POST body neither form-encoded nor JSON (multipart)
    # Parameters that are not storable text: bytes that are not UTF-8 (raw or percent-escaped),
    # a NUL, a lone surrogate in JSON. Retrying cannot fix them, so never a 503.
    BAD_ENCODING = "bad_encoding"
    # 401: who is posting could not be established.
    MISSING_CREDENTIALS = "missing_credentials"
    BAD_TOKEN = "bad_token"
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"
    REPLAYED_SIGNATURE = "replayed_signature"
    UNKNOWN_ADVERTISER = "unknown_advertiser"
    # 405: /postback takes GET and POST only.
    METHOD_NOT_ALLOWED = "method_not_allowed"
    # 403: known, but not allowed.
    IP_NOT_ALLOWED = "ip_not_allowed"
    WRONG_ADVERTISER = "wrong_advertiser"
    ADVERTISER_SUSPENDED = "advertiser_suspended"
    # 503: could not be stored durably; the advertiser retries.
    STORAGE_UNAVAILABLE = "storage_unavailable"


# Reasons a conversion was refused by our rules at recording; status updates cannot revive them.
SYSTEM_REJECTIONS = frozenset(
    {
        Reason.UNKNOWN_CLICK,
        Reason.UNKNOWN_COUPON,
        Reason.WINDOW_EXPIRED,
        Reason.CAP_REACHED,
        Reason.OFFER_INACTIVE,
        Reason.NOT_APPROVED,
        Reason.CLICK_ALREADY_CONVERTED,
        Reason.CLICK_TO_CONVERSION_TOO_SLOW,
        Reason.HOLDOUT_CONTROL,
    }
)
