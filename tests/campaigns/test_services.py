from __future__ import annotations

import datetime as dt

import pytest

from apps.campaigns.models import Campaign
from apps.campaigns.selectors import campaign_get
from apps.campaigns.services import campaign_create
from apps.core.errors import ApplicationError


def test_campaign_create_makes_a_draft(tenant, make_user):
    admin = make_user(role="admin")
    campaign = campaign_create(name="Premium Line Q1", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31),
                               currency="BRL", language="pt-br", created_by=admin)

    assert campaign.status == Campaign.Status.DRAFT
    assert campaign_get(campaign_id=campaign.pk) == campaign
    assert campaign.source_schema is None


def test_campaign_that_ends_before_it_starts_is_refused_and_nothing_is_written(tenant):
    with pytest.raises(ApplicationError):
        campaign_create(name="Backwards", start_date=dt.date(2026, 3, 31), end_date=dt.date(2026, 1, 1))
    assert not Campaign.objects.exists()


def test_campaign_get_with_a_malformed_id_is_none(tenant):
    assert campaign_get(campaign_id="not-a-uuid") is None
