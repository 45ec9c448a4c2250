from __future__ import annotations

import datetime as dt

import factory

from apps.campaigns.models import Campaign, CampaignRuleVersion


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Premium Line Q1 #{n}")
    start_date = dt.date(2026, 1, 1)
    end_date = dt.date(2026, 3, 31)
    currency = "BRL"
    language = "en"


class CampaignRuleVersionFactory(factory.django.DjangoModelFactory):
    """A draft rule version; pass ``document=`` (a rule document) for one that can be approved."""

    class Meta:
        model = CampaignRuleVersion

    campaign = factory.SubFactory(CampaignFactory)
    number = factory.Sequence(lambda n: n + 1)
    document = factory.LazyFunction(dict)
