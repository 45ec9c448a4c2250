"""Ledger entries written by the thousand: no foreign-key check of the program (the member's, whose key is
enforced) and no varchar_pattern_ops copy of the idempotency key's unique index (same constraint name)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('loyalty', '0003_index_review'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='ledgerentry',
            name='idempotency_key',
            field=models.CharField(blank=True, max_length=200, null=True, verbose_name='idempotency key'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='program',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='loyalty.program'),
        ),
        migrations.AddConstraint(
            model_name='ledgerentry',
            constraint=models.UniqueConstraint(fields=('idempotency_key',), name='loyalty_ledgerentry_idempotency_key_key'),
        ),
    ]
