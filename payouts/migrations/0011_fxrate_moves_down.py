# FxRate now belongs to affiliates (affiliates 0005 took it over with the same table): drop it from
# payouts' state only, so no rows move and the table stays.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0010_entry_references_per_statement"),
        ("affiliates", "0005_fxrate_moves_down"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="FxRate")],
        ),
    ]
