"""The tenant's branding: display name, colours and logo. One row per tenant schema (at most).

Kept in the tenant's own schema, not in the public ``Client`` row: a tenant's look is its data like any other,
so isolation comes from the schema (beta's queries cannot reach alpha's row), it goes away with the schema,
and the pages that show it read their own schema without a cross-schema query. The logo's bytes are stored
here too (already cleaned and re-encoded): no media storage or MEDIA serving to run for a few kilobytes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import BaseModel

DEFAULT_PRIMARY = "#1d4ed8"
DEFAULT_ACCENT = "#f59e0b"


class Branding(BaseModel):
    class TextOnPrimary(models.TextChoices):
        AUTO = "auto", _("Automatic (the more readable of white and black)")
        WHITE = "white", _("White")
        BLACK = "black", _("Black")

    # Always True: with the unique constraint, a second row cannot exist.
    singleton = models.BooleanField(default=True, editable=False)
    display_name = models.CharField(_("display name"), max_length=100, blank=True, default="")
    primary_color = models.CharField(_("primary colour"), max_length=7, default=DEFAULT_PRIMARY)
    accent_color = models.CharField(_("accent colour"), max_length=7, default=DEFAULT_ACCENT)
    text_on_primary = models.CharField(_("text on the primary colour"), max_length=5,
                                       choices=TextOnPrimary.choices, default=TextOnPrimary.AUTO)
    logo = models.BinaryField(_("logo"), null=True, blank=True)
    logo_content_type = models.CharField(_("logo type"), max_length=20, blank=True, default="")
    logo_sha256 = models.CharField(_("logo SHA-256"), max_length=64, blank=True, default="")
    logo_width = models.PositiveIntegerField(_("logo width"), null=True, blank=True)
    logo_height = models.PositiveIntegerField(_("logo height"), null=True, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("updated by"))

    class Meta(BaseModel.Meta):
        verbose_name = _("branding")
        verbose_name_plural = _("branding")
        constraints = [
            models.UniqueConstraint(fields=["singleton"], name="branding_one_per_tenant"),
            models.CheckConstraint(condition=models.Q(singleton=True), name="branding_singleton_true"),
        ]

    def __str__(self) -> str:
        return self.display_name or str(_("Branding"))
