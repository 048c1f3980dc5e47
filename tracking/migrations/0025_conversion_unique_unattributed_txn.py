from typing import Any

from django.db import migrations, models
from django.db.models import Count, Min


def repeats_keep_their_first(apps: Any, schema_editor: Any) -> None:
    """Rows recorded before the constraint: of the refusals an advertiser sent again with the
    same txn_id, the first keeps it; the later ones keep it in their trace only."""
    Conversion = apps.get_model("tracking", "Conversion")
    unattributed = Conversion.objects.filter(offer__isnull=True).exclude(txn_id="")
    repeated = (
        unattributed.values("advertiser_id", "txn_id").annotate(n=Count("id"), first=Min("id")).filter(n__gt=1)
    )
    for group in repeated:
        later = unattributed.filter(advertiser_id=group["advertiser_id"], txn_id=group["txn_id"])
        for conv in later.exclude(id=group["first"]):
            conv.trace = {**conv.trace, "txn_id_reported": conv.txn_id, "repeat_of": group["first"]}
            conv.txn_id = ""
            conv.save(update_fields=["txn_id", "trace"])


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0007_sale_bounds_and_payout_conditions"),
        ("tracking", "0024_conversion_customer"),
    ]

    operations = [
        migrations.RunPython(repeats_keep_their_first, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="conversion",
            constraint=models.UniqueConstraint(
                condition=models.Q(("offer__isnull", True), models.Q(("txn_id", ""), _negated=True)),
                fields=("advertiser", "txn_id"),
                name="conversion_unique_unattributed_txn",
            ),
        ),
    ]
