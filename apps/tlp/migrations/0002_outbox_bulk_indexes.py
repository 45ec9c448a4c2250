"""The outbox is written by the ten thousand (a campaign's first execution queues a TLP member and a mirror per
award): the idempotency key keeps its unique index (same name) without the varchar_pattern_ops copy, and the
(source type, source id) index, which no query reads, goes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tlp', '0001_initial'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='tlpoutbox',
            name='tlp_outbox_source',
        ),
        migrations.AlterField(
            model_name='tlpoutbox',
            name='idempotency_key',
            field=models.CharField(max_length=255, verbose_name='idempotency key'),
        ),
        migrations.AddConstraint(
            model_name='tlpoutbox',
            constraint=models.UniqueConstraint(fields=('idempotency_key',), name='tlp_tlpoutbox_idempotency_key_key'),
        ),
    ]
