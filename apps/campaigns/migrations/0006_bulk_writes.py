"""The execution engine's bulk writes: foreign keys of append-only rows that another enforced key implies are
no longer checked by PostgreSQL row by row (the ORM keeps on_delete); participants are rewritten in place (HOT
updates: no indexed column changes, and half of each page is left free for the new row versions)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0005_index_review'),
    ]

    operations = [
        migrations.AlterField(
            model_name='campaignparticipant',
            name='last_execution',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='campaigns.campaignexecution', verbose_name='last execution'),
        ),
        migrations.AlterField(
            model_name='pointallocation',
            name='campaign',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='allocations', to='campaigns.campaign', verbose_name='campaign'),
        ),
        migrations.AlterField(
            model_name='pointallocation',
            name='execution',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='campaigns.campaignexecution', verbose_name='execution'),
        ),
        migrations.AlterField(
            model_name='pointallocation',
            name='rule_version',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='allocations', to='campaigns.campaignruleversion', verbose_name='rule version'),
        ),
        migrations.AlterField(
            model_name='progresssnapshot',
            name='execution',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='snapshots', to='campaigns.campaignexecution', verbose_name='execution'),
        ),
        migrations.RunSQL(
            "ALTER TABLE campaigns_campaignparticipant SET (fillfactor = 50)",
            "ALTER TABLE campaigns_campaignparticipant RESET (fillfactor)",
        ),
    ]
