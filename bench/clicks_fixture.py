"""``python -m bench.clicks_fixture``: one approved bench link (idempotent); prints token and offer id.
``python -m bench.clicks_fixture count <offer_id>`` prints that offer's clicks in the database."""

import sys

import django

django.setup()

from affiliates.models import Advertiser, Offer, OfferAccess, Publisher  # noqa: E402
from tracking.models import Click  # noqa: E402

if sys.argv[1:2] == ["count"]:
    print(Click.objects.filter(offer_id=int(sys.argv[2])).count())
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
print(access.token, offer.pk)
