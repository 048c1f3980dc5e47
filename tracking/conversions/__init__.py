"""Conversions: the postback and the pixel, attribution, dedupe, exact caps and fraud rules.

Entry points: ``route`` (``/postback``, which the edge in tracking/clickpath/edge.py answers on
its event loop; lookups and INSERTs batched by ``aio_db``), ``views`` (the pixel), ``intake``
(request -> draft), ``services`` (recording and status changes), ``offload`` (what may run on
the loop), ``click_lookup`` (a click by id, stored or still in Redis), ``tracking.api`` (reads).
Wire formats are contract sections 3 and 4, plus two optional postback parameters the contract
leaves open: ``advertiser`` (its id: names the HMAC secret when the click is unknown) and
``offer`` (its id: narrows a txn_id-only status update).

Answers beyond the contract's 200 results: 4xx/5xx bodies carry ``"result": "error"`` with the
reason (see outcome.Reason) and a human ``message``.
"""
