from decimal import Decimal

from django.db import migrations, models

from payouts.documents_guard import documents_guard_install, documents_guard_remove

_REVENUE_ROLES = ("billed", "credited", "billed_change")
_CARRIED_ROLES = ("billed", "stated")
_BACK_ROLES = ("credited", "stated_reversal")


def items_get_quantities(apps, schema_editor):
    """Items issued before items had a quantity: estimated from the commission's quantity now,
    in proportion to the amount the item carried (exact for every commission whose amount has
    not changed since it was carried, i.e. all but recounted daily lines). Issued lines keep the
    quantities they were printed with; the estimate only feeds the next correction's quantity."""
    Item = apps.get_model("payouts", "DocumentItem")
    rows = Item.objects.values_list(
        "pk", "role", "amount", "commission__quantity", "commission__revenue", "commission__payout"
    )
    updates: dict[int, int] = {}
    for pk, role, amount, quantity, revenue, payout in rows.iterator():
        current = revenue if role in _REVENUE_ROLES else payout
        if current:
            q = int((Decimal(quantity) * amount / current).to_integral_value())
        else:
            q = quantity if role in _CARRIED_ROLES else -quantity if role in _BACK_ROLES else 0
        if q:
            updates[pk] = q
    if not updates:
        return
    # Issued documents refuse UPDATE in the database (documents_guard): lifted for this one
    # backfill of a new column, inside the migration's transaction, and put back.
    documents_guard_remove(connection=schema_editor.connection)
    for pk, q in updates.items():
        Item.objects.filter(pk=pk).update(quantity=q)
    documents_guard_install(connection=schema_editor.connection)


def guards_reinstall(apps, schema_editor):
    # SQLite rebuilds a table to alter a column, and a rebuilt table has lost its triggers.
    documents_guard_install(connection=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("payouts", "0020_assist_commissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="documentitem",
            name="quantity",
            field=models.IntegerField(
                default=0,
                help_text="Conversions, clicks or impressions carried (signed, like the amount): the next correction of a daily line shows how many it changed by.",
            ),
        ),
        migrations.AlterField(
            model_name="documentline",
            name="quantity",
            field=models.IntegerField(
                help_text="Conversions, clicks or impressions; on a correction, how many it adds or takes back (negative where a line shrank or was reversed)."
            ),
        ),
        migrations.RunPython(guards_reinstall, migrations.RunPython.noop),
        migrations.RunPython(items_get_quantities, migrations.RunPython.noop),
    ]
