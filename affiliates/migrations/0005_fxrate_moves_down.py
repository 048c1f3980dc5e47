# FxRate moves from payouts down to affiliates so tracking can convert sale amounts without
# importing payouts. Only Django's state moves: the table keeps its name (payouts_fxrate) and its
# rows, and payouts 0011 drops the model from its own state.

import django.utils.timezone
from django.db import migrations, models

import affiliates.core.money


def _content_type_move(apps, schema_editor, *, old_label, new_label):
    # Permissions granted on the model follow it to its new app label (unless a content type for
    # the new label exists already, e.g. created by an earlier migrate to this state).
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not ContentType.objects.using(db).filter(app_label=new_label, model="fxrate").exists():
        ContentType.objects.using(db).filter(app_label=old_label, model="fxrate").update(app_label=new_label)


def content_type_moves(apps, schema_editor):
    _content_type_move(apps, schema_editor, old_label="payouts", new_label="affiliates")


def content_type_moves_back(apps, schema_editor):
    _content_type_move(apps, schema_editor, old_label="affiliates", new_label="payouts")


class Migration(migrations.Migration):
    dependencies = [
        ("affiliates", "0004_creative"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("payouts", "0010_entry_references_per_statement"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="FxRate",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("base", models.CharField(help_text="1 unit of this currency...", max_length=3, validators=[affiliates.core.money.validate_currency])),
                        ("quote", models.CharField(help_text="...is worth `rate` of this one.", max_length=3, validators=[affiliates.core.money.validate_currency])),
                        ("rate", models.DecimalField(decimal_places=10, help_text="Units of quote one unit of base is worth; positive, up to 10 decimal places.", max_digits=20)),
                        ("valid_from", models.DateTimeField(default=django.utils.timezone.now, help_text="In force from this time until the pair's next rate: an amount is converted at the rate in force at its conversion's time.")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False, help_text="When it was entered.")),
                    ],
                    options={
                        "verbose_name": "FX rate",
                        "db_table": "payouts_fxrate",
                        "ordering": ["base", "quote", "-valid_from"],
                        "constraints": [
                            models.UniqueConstraint(fields=("base", "quote", "valid_from"), name="fx_unique_pair_time"),
                            models.CheckConstraint(condition=models.Q(("rate__gt", 0)), name="fx_rate_gt_0"),
                            models.CheckConstraint(condition=models.Q(("base", models.F("quote")), _negated=True), name="fx_distinct_pair"),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_moves, content_type_moves_back),
    ]
