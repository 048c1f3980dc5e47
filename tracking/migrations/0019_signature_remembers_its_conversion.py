"""A used postback signature remembers the conversion it recorded or updated, so the same
signed postback sent again (its answer was lost) is answered ``duplicate`` with that
conversion, not 401. Nullable: SQLite adds it in place, and signatures burnt before keep no id."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tracking", "0018_conversion_lifecycle")]

    operations = [
        migrations.AddField(
            model_name="usedpostbacksignature",
            name="conversion_id",
            field=models.BigIntegerField(
                blank=True,
                help_text="The conversion it recorded or updated: a resend is answered as its duplicate.",
                null=True,
            ),
        ),
    ]
