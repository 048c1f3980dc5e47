# Outbound publisher postbacks are called callbacks in code, so they never share a word with the
# advertiser postbacks tracking receives. Only Django's state changes: the tables keep their names
# (each model pins its db_table), so nothing runs in the database but the content types' rename,
# which keeps the admin permissions granted on these models.

import django.db.models.deletion
from django.db import migrations, models

RENAMES = [
    ("postbackendpoint", "callbackendpoint"),
    ("postbackdelivery", "callbackdelivery"),
    ("postbackattempt", "callbackattempt"),
]


def _content_types_rename(apps, schema_editor, pairs):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for old, new in pairs:
        if not ContentType.objects.using(db).filter(app_label="payouts", model=new).exists():
            ContentType.objects.using(db).filter(app_label="payouts", model=old).update(model=new)


def content_types_forward(apps, schema_editor):
    _content_types_rename(apps, schema_editor, RENAMES)


def content_types_backward(apps, schema_editor):
    _content_types_rename(apps, schema_editor, [(new, old) for old, new in RENAMES])


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0005_fxrate_moves_down"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("payouts", "0011_fxrate_moves_down"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
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
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="callback_endpoints",
                        to="affiliates.publisher",
                    ),
                ),
                # The URL template is vetted by payouts.callbacks' services and admin form (the
                # models no longer import the callbacks package).
                migrations.AlterField(
                    model_name="callbackendpoint", name="url", field=models.CharField(max_length=2000)
                ),
            ],
        ),
        migrations.RunPython(content_types_forward, content_types_backward),
    ]
