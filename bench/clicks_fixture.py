"""``python -m bench.clicks_fixture``: one approved bench link and one smart link of three paths
and a catch-all over the same publisher's offers (idempotent); prints the link's token, its
offer id, the smart link's token and id.
``python -m bench.clicks_fixture count <offer_id>`` prints that offer's clicks in the database;
``count-smart <smart_id>`` the smart link's; ``refused <offer_id>`` the offer's clicks refused
by a frequency cap.
``cpu <token> <smart_token> <n> [<freq_token>]`` prints the edge's own CPU time per click
(microseconds) for the plain link, the smart link (and the frequency-capped link):
``click_plan`` + ``click_answer`` (+ the click script's KEYS and ARGV) in-process, no I/O,
alternating blocks so all see the same machine.
``freq <limit>`` makes a link whose offer has a frequency cap across offers of ``limit`` clicks
per visitor and day (issue 14; one offer per limit, idempotent) and prints its token and offer
id. The bench sends each visitor fewer clicks than the limit, so every click is counted (the
cap's full work: read, check, write) and goes to the offer like the plain click: with many
visitors and a limit of a few (store.FREQ_STRING_LIMIT at most: the visitor's times in one
string), and with one visitor (wrk's static request) and a limit out of reach (past it: a
sorted set that grows by a member per click, the cap's worst case)."""

import sys
import time

import django

django.setup()

from affiliates.models import Advertiser, Offer, OfferAccess, Publisher  # noqa: E402
from tracking.models import Click, FrequencyCap, SmartLink, SmartPath  # noqa: E402


def _cpu(tokens: list[str], n: int) -> None:
    from tracking.clickpath import handler, links, policy, store

    policy.policy_reload()  # the frequency cap, as the edge loads it before its first click

    environ = {
        "REQUEST_METHOD": "GET", "QUERY_STRING": "sub1=abc&source=fb", "REMOTE_ADDR": "8.8.8.8",
        "HTTP_USER_AGENT": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36",
    }  # fmt: skip
    snapshots = {t: links.link_resolve(t) for t in tokens}
    spent = dict.fromkeys(tokens, 0.0)
    block = 1000

    def one(snap: object) -> None:
        plan = handler.click_plan(environ, snap)  # type: ignore[arg-type]
        assert plan is not None
        store.click_script_call(plan.rec, caps=plan.caps, window_hours=24, ip=plan.ip, freq=plan.freq)
        handler.click_answer(plan, "")

    for snap in snapshots.values():  # warm-up: caches, lazy imports
        for _ in range(block):
            one(snap)
    for _ in range(max(n // block, 1)):
        for t, snap in snapshots.items():
            started = time.process_time()
            for _ in range(block):
                one(snap)
            spent[t] += time.process_time() - started
    done = max(n // block, 1) * block
    print(" ".join(f"{spent[t] / done * 1e6:.2f}" for t in tokens))


def _freq(limit: int) -> None:
    adv, _ = Advertiser.objects.get_or_create(
        name="Bench Advertiser", defaults={"postback_token_digest": "bench"}
    )
    offer, _ = Offer.objects.get_or_create(
        advertiser=adv,
        name=f"Bench Frequency-capped Offer ({limit} a day)",
        defaults={"landing_url": "https://shoes.example.com/?cid={click_id}&s1={sub1}"},
    )
    pub, _ = Publisher.objects.get_or_create(
        name="Bench Publisher", defaults={"email": "bench@example.com", "status": "active"}
    )
    access, _ = OfferAccess.objects.get_or_create(offer=offer, publisher=pub, defaults={"status": "approved"})
    FrequencyCap.objects.update_or_create(
        advertiser=adv, offer=offer, window_days=1, defaults={"limit": limit}
    )
    print(access.token, offer.pk)


if sys.argv[1:2] == ["count"]:
    print(Click.objects.filter(offer_id=int(sys.argv[2])).count())
    sys.exit(0)
if sys.argv[1:2] == ["refused"]:
    print(Click.objects.filter(offer_id=int(sys.argv[2]), reason="frequency_cap").count())
    sys.exit(0)
if sys.argv[1:2] == ["count-smart"]:
    paths = SmartPath.objects.filter(smart_link_id=int(sys.argv[2])).values("pk")
    print(Click.objects.filter(smart_path_id__in=paths).count())
    sys.exit(0)
if sys.argv[1:2] == ["cpu"]:
    _cpu([sys.argv[2], sys.argv[3], *sys.argv[5:6]], int(sys.argv[4]))
    sys.exit(0)
if sys.argv[1:2] == ["freq"]:
    _freq(int(sys.argv[2]))
    sys.exit(0)
adv, _ = Advertiser.objects.get_or_create(
    name="Bench Advertiser", defaults={"postback_token_digest": "bench"}
)
offer, _ = Offer.objects.get_or_create(
    advertiser=adv,
    name="Bench Offer",
    defaults={"landing_url": "https://shoes.example.com/?cid={click_id}&s1={sub1}"},
)
pub, _ = Publisher.objects.get_or_create(
    name="Bench Publisher", defaults={"email": "bench@example.com", "status": "active"}
)
access, _ = OfferAccess.objects.get_or_create(offer=offer, publisher=pub, defaults={"status": "approved"})
smart, created = SmartLink.objects.get_or_create(name="Bench Smart Link", publisher=pub)
if created:  # three paths with targeting the bench visitor passes, and a catch-all
    for n, (name, weight) in enumerate([("A", 50), ("B", 30), ("C", 20), ("Catch-all", 0)]):
        path_offer, _ = Offer.objects.get_or_create(
            advertiser=adv,
            name=f"Bench Smart {name}",
            defaults={"landing_url": f"https://{name.lower()}.example.com/?cid={{click_id}}&s1={{sub1}}"},
        )
        OfferAccess.objects.get_or_create(offer=path_offer, publisher=pub, defaults={"status": "approved"})
        SmartPath.objects.create(
            smart_link=smart, offer=path_offer, weight=weight, position=n, is_catch_all=name == "Catch-all",
            countries=[] if name == "Catch-all" else ["US", "DE", "GB", "FR", ""],
            devices=["desktop", "mobile", "tablet", "other", ""] if name == "A" else [],
        )  # fmt: skip
print(access.token, offer.pk, smart.token, smart.pk)
