# Outbound publisher postbacks are called callbacks in code, so they never share a word with the
# advertiser postbacks tracking receives. Only Django's state changes: the tables keep
# their names (each model pins its db_table first, which makes RenameModel a no-op in the
# database), and the reverse accessors on Publisher follow the new name.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0005_fxrate_moves_down"),
        ("payouts", "0011_fxrate_moves_down"),
    ]

    operations = [
        migrations.AlterModelTable(name="postbackendpoint", table="payouts_postbackendpoint"),
        migrations.AlterModelTable(name="postbackdelivery", table="payouts_postbackdelivery"),
        migrations.AlterModelTable(name="postbackattempt", table="payouts_postbackattempt"),
        migrations.RenameModel(old_name="PostbackEndpoint", new_name="CallbackEndpoint"),
        migrations.RenameModel(old_name="PostbackDelivery", new_name="CallbackDelivery"),
        migrations.RenameModel(old_name="PostbackAttempt", new_name="CallbackAttempt"),
        migrations.AlterModelOptions(
            name="callbackdelivery",
            options={"ordering": ["-created_at", "-id"], "verbose_name_plural": "callback deliveries"},
        ),
        migrations.AlterField(
            model_name="callbackdelivery",
            name="publisher",
            field=models.ForeignKey(
                help_text="Publisher whose postback it is.",
                on_delete=django.db.models.deletion.CASCADE,
                related_name="callback_deliveries",
                to="affiliates.publisher",
            ),
        ),
        migrations.AlterField(
            model_name="callbackendpoint",
            name="publisher",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="callback_endpoints", to="affiliates.publisher"
            ),
        ),
        # The URL template is vetted by payouts.callbacks' services and admin form (the models no
        # longer import the callbacks package); no change in the database.
        migrations.AlterField(model_name="callbackendpoint", name="url", field=models.CharField(max_length=2000)),
    ]
