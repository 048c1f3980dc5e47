from django.db import migrations


class Migration(migrations.Migration):
    """OfferTarget is an advertiser setting on an offer: it moves to affiliates (the bottom app), so
    the offer form saves it without importing upwards. The rows stay; only the table's name changes
    here, and affiliates 0012 takes the model over in Django's state."""

    dependencies = [
        ("tracking", "0025_conversion_unique_unattributed_txn"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="offertarget", table="affiliates_offertarget")],
            state_operations=[migrations.DeleteModel(name="OfferTarget")],
        ),
    ]
