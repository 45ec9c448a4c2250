"""Reads of campaigns."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from apps.campaigns.models import Campaign


def campaign_get(*, campaign_id: Any) -> Campaign | None:
    """The campaign, or None when it does not exist in this tenant (or the id is not a UUID)."""
    try:
        return Campaign.objects.select_related("source_schema").filter(pk=campaign_id).first()
    except (ValidationError, ValueError, TypeError):
        return None
