"""Writes of campaigns (minimal until the campaigns issue lands: creation only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.campaigns.models import Campaign
from apps.core.errors import ApplicationError


@transaction.atomic
def campaign_create(*, name: str, start_date: dt.date, end_date: dt.date, description: str = "",
                    currency: str = Campaign.Currency.BRL, language: str = "en", created_by: Any = None) -> Campaign:
    """A draft campaign. Refuses a period that ends before it starts."""
    if end_date < start_date:
        raise ApplicationError(_("The campaign cannot end before it starts."),
                               fields={"end_date": [_("Must not be before the start date.")]})
    return Campaign.objects.create(name=name, description=description, start_date=start_date, end_date=end_date,
                                   currency=currency, language=language, created_by=created_by)
