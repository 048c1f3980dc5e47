from typing import Any

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def content_type_follows(apps: Any, schema_editor: Any) -> None:
    """The audit log and permissions point at the model's content type: keep them pointing at it."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="affiliates", model="offertarget").exists():
        ContentType.objects.filter(app_label="tracking", model="offertarget").update(app_label="affiliates")


class Migration(migrations.Migration):
    """Takes OfferTarget over from tracking (tracking 0026 renamed its table): state only."""

    dependencies = [
        ("affiliates", "0011_customer_value"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tracking", "0026_offer_target_moves_to_affiliates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OfferTarget",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        (
                            "period",
                            models.CharField(
                                choices=[("day", "Day"), ("week", "Week"), ("month", "Month")],
                                default="month",
                                help_text=(
                                    "What the target counts per: day, week or month (30.4375 days); reports"
                                    " prorate it to their date range."
                                ),
                                max_length=8,
                            ),
                        ),
                        (
                            "conversions",
                            models.PositiveIntegerField(help_text="Target pending + approved conversions per period."),
                        ),
                        (
                            "updated_at",
                            models.DateTimeField(default=django.utils.timezone.now, help_text="When it was last set."),
                        ),
                        (
                            "offer",
                            models.OneToOneField(
                                help_text="The offer the target is for (also the key in the URL).",
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="target",
                                to="affiliates.offer",
                            ),
                        ),
                        (
                            "updated_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("conversions__gt", 0)), name="offertarget_conversions_gt_0"
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_type_follows, migrations.RunPython.noop),
    ]
