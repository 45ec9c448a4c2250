"""Sales-incentive campaigns. Minimal for now: what the rules engine's schema endpoints need; the campaigns
issue extends it (rules, executions, participants)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import BaseModel


class Campaign(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")

    class Currency(models.TextChoices):
        BRL = "BRL", "BRL"
        USD = "USD", "USD"
        EUR = "EUR", "EUR"
        MXN = "MXN", "MXN"

    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=50, choices=Status.choices, default=Status.DRAFT)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.BRL)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )
    source_schema = models.ForeignKey(
        "rules.SourceSchema", on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns",
        verbose_name=_("source schema"),
    )

    class Meta(BaseModel.Meta):
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")),
                                   name="campaigns_campaign_period_valid"),
        ]

    def __str__(self) -> str:
        return self.name
