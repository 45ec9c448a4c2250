"""Offer graphics wear the tenant's branding (apps.branding) instead of colours and a logo of TLP's own. A
tenant that chose TLP colours and has no branding yet keeps them, as its branding (automatic text colour, which
always meets WCAG AA); a TLP-only logo is not carried over (the branding settings re-encode and check logos)."""

from django.db import migrations

DEFAULTS = ("#1d4ed8", "#f59e0b")


def colours_to_branding(apps, schema_editor):  # type: ignore[no-untyped-def]
    configuration = apps.get_model("tlp", "TLPConfiguration").objects.order_by("created_at").first()
    branding = apps.get_model("branding", "Branding")
    if configuration is None or branding.objects.exists():
        return
    colours = (configuration.brand_primary_color.lower(), configuration.brand_accent_color.lower())
    if colours != DEFAULTS:
        branding.objects.create(primary_color=colours[0], accent_color=colours[1])


class Migration(migrations.Migration):

    dependencies = [
        ('tlp', '0002_outbox_bulk_indexes'),
        ('branding', '0001_initial'),
    ]

    operations = [
        migrations.RunPython(colours_to_branding, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name='tlpconfiguration',
            name='brand_accent_color',
        ),
        migrations.RemoveField(
            model_name='tlpconfiguration',
            name='brand_logo',
        ),
        migrations.RemoveField(
            model_name='tlpconfiguration',
            name='brand_primary_color',
        ),
    ]
