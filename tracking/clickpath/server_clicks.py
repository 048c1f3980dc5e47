"""Clicks a publisher's server records through the API (``POST /api/v1/clicks/``, issue 16):
the visitor never passes through us, so the publisher's server sends the visitor's address,
user agent and referrer, and gets the click id and the destination back as JSON.

One click path (issue 10): the click is the edge's own ``edge.click`` coroutine, with the same
link snapshot, checks, Redis script (caps counted, stream entry), database fallback and spool;
only its last step differs: ``json_answer`` instead of the 302. The API view runs in Django's
threads, and the click path runs on an event loop (its Redis batcher and thread pool are built
for one), so the view hands the coroutine to a loop of this module's own, in a daemon thread,
and waits for its answer. A loop of its own rather than the edge's: it exists in every process
that serves the API (the edge, Django's test client, a shell), so the path is the same
everywhere, and a slow click here never holds the edge's loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q

from affiliates.models import OfferAccess
from tracking.clickpath import edge, handler, smart
from tracking.models.clicks import ClickReason
from tracking.models.smartlinks import SmartLink

#: How long the API waits for the click's durable write: Redis's timeout, then the database's
#: or the spool's, each bounded well below it.
ANSWER_TIMEOUT_SECONDS = 30.0
JSON_HEADERS = [("Content-Type", "application/json"), handler.NO_STORE]
PARAMS = ("sub1", "sub2", "sub3", "sub4", "sub5", "source", "url")

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def _click_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _loop_lock:
        if _loop is None or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="server-clicks", daemon=True).start()
        return _loop


def server_environ(*, ip: str, user_agent: str, referrer: str, params: dict[str, str]) -> dict[str, Any]:
    """The WSGI-style environ the click path reads, as if the visitor had clicked: no cookies
    (the publisher's server has none of the visitor's), so visitor-cookie frequency caps and
    sticky smart-link paths fall back to the address, as for a visitor without cookies."""
    return {
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": urlencode({k: v for k, v in params.items() if v}),
        "REMOTE_ADDR": ip,
        "HTTP_USER_AGENT": user_agent,
        "HTTP_REFERER": referrer,
        "wsgi.url_scheme": "https",
    }


def json_answer(plan: handler.ClickPlan, final: str) -> handler.Response:
    """The click API's answer beside the redirect's: 201 with where the visitor goes, or 422
    with the reason the redirect path would have recorded (the click is recorded either way,
    and the refusal's fallback destination is given, as the redirect would have sent it)."""
    location, target = handler.click_destination(plan, final)
    if plan.pick is not None and plan.snapshot is not None:
        smart.verdict_note(plan.pick, final, now=time.time())
    rec = plan.rec
    body: dict[str, Any] = {
        "click_id": rec["id"],
        "destination_url": location,
        "offer_id": plan.link.offer_id,
        "publisher_id": plan.link.publisher_id,
        "fraud_flags": list(rec["fraud_flags"]),
    }
    if final == ClickReason.OK:
        status = 201
        body.update(country=rec["country"], device=rec["device"], os=rec["os"])
    else:
        status = 422
        body.update(code=final, message=f"The click was recorded but refused: {final}.")
        body["fallback_offer_id"] = target.offer_id if target is not None else None
    return handler.Response(status, [*JSON_HEADERS], json.dumps(body).encode())


def server_click_record(*, token: str, environ: dict[str, Any]) -> handler.Response:
    """Record one click on ``token`` through the edge's click path and return its answer:
    ``json_answer``'s, or the path's own for a link that vanished (404), one nobody can read
    right now (a 302 to the default fallback, the click spooled) or no store (503)."""
    coro = edge.click(environ, token, answer=json_answer)
    future = asyncio.run_coroutine_threadsafe(coro, _click_loop())
    return future.result(timeout=ANSWER_TIMEOUT_SECONDS)


def link_token_for(*, offer_id: int | None, link: str | None, publisher_id: int | None) -> str | None:
    """The token a server click goes through: the publisher's link to ``offer_id``, or ``link``
    (a link or smart link token) when it is the publisher's; ``publisher_id`` None (staff):
    any link. None when there is no such link for the caller."""
    if offer_id is not None:
        if publisher_id is None:
            return None
        access = OfferAccess.objects.filter(offer_id=offer_id, publisher_id=publisher_id)
        return access.values_list("token", flat=True).first()
    mine = Q() if publisher_id is None else Q(publisher_id=publisher_id)
    if (
        OfferAccess.objects.filter(mine, token=link).exists()
        or SmartLink.objects.filter(mine, token=link).exists()
    ):
        return link
    return None
