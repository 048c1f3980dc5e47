# Impression's primary key becomes a UUIDv7 like Click's, so replayed stream entries and spool
# lines are written once (ON CONFLICT (id) DO NOTHING). bigint cannot be cast to uuid, so the
# (still empty) table is recreated instead of altered.

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('affiliates', '0001_initial'),
        ('tracking', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='click',
            name='fallback_offer',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='affiliates.offer'),
        ),
        migrations.AlterField(
            model_name='click',
            name='reason',
            field=models.CharField(blank=True, choices=[('', 'Redirected to the offer'), ('offer_paused', 'Offer Paused'), ('offer_expired', 'Offer Expired'), ('not_approved', 'Not Approved'), ('geo_mismatch', 'Geo Mismatch'), ('device_mismatch', 'Device Mismatch'), ('cap_reached', 'Cap Reached'), ('tracking_unavailable', 'Unavailable')], default='', max_length=32),
        ),
        migrations.AddIndex(
            model_name='click',
            index=models.Index(fields=['publisher', 'created_at'], name='click_pub_time'),
        ),
        migrations.DeleteModel(name='Impression'),
        migrations.CreateModel(
            name='Impression',
            fields=[
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('ip', models.CharField(blank=True, help_text='Full, truncated or hashed per IP_PRIVACY.', max_length=64)),
                ('user_agent', models.CharField(blank=True, max_length=512)),
                ('country', models.CharField(blank=True, max_length=2)),
                ('device', models.CharField(blank=True, max_length=16)),
                ('os', models.CharField(blank=True, max_length=32)),
                ('sub1', models.CharField(blank=True, max_length=255)),
                ('sub2', models.CharField(blank=True, max_length=255)),
                ('sub3', models.CharField(blank=True, max_length=255)),
                ('sub4', models.CharField(blank=True, max_length=255)),
                ('sub5', models.CharField(blank=True, max_length=255)),
                ('source', models.CharField(blank=True, max_length=255)),
                ('id', models.UUIDField(editable=False, primary_key=True, serialize=False)),
                ('offer', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='affiliates.offer')),
                ('publisher', models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='affiliates.publisher')),
            ],
            options={
                'ordering': ['-created_at'],
                'indexes': [models.Index(fields=['offer', 'publisher', 'created_at'], name='impression_offer_pub_time')],
            },
        ),
    ]
