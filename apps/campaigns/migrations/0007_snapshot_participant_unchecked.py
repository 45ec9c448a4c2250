"""Snapshots' participant: indexed, deleted with it by the ORM, no longer checked by PostgreSQL row by row."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0006_bulk_writes'),
    ]

    operations = [
        migrations.AlterField(
            model_name='progresssnapshot',
            name='participant',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='snapshots', to='campaigns.campaignparticipant', verbose_name='participant'),
        ),
    ]
