import secrets

from django.db import migrations, models

import affiliates.models


def _keys_per_advertiser(apps, schema_editor):  # type: ignore[no-untyped-def]
    """AddField's default is computed once for every existing row; each advertiser needs its own
    key (shared keys would let the network join two advertisers' customers)."""
    Advertiser = apps.get_model("affiliates", "Advertiser")
    for adv in Advertiser.objects.only("pk"):
        Advertiser.objects.filter(pk=adv.pk).update(customer_key=secrets.token_urlsafe(32))


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0010_api_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="advertiser",
            name="customer_key",
            field=models.CharField(default=affiliates.models.new_secret, editable=False, max_length=64),
        ),
        migrations.RunPython(_keys_per_advertiser, migrations.RunPython.noop, elidable=True),
        migrations.AddField(
            model_name="advertiser",
            name="value_horizon_days",
            field=models.PositiveSmallIntegerField(
                choices=[(0, "First order"), (90, "90 days"), (180, "180 days")],
                default=0,
                help_text=(
                    "What the effect score counts as a conversion's value: 0 the first order only, or 90 / 180"
                    " days of the customer's orders (from the customer-value reports)."
                ),
            ),
        ),
    ]
