from __future__ import annotations

import datetime as dt

import factory

from apps.campaigns.models import Campaign


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Premium Line Q1 #{n}")
    start_date = dt.date(2026, 1, 1)
    end_date = dt.date(2026, 3, 31)
    currency = "BRL"
    language = "en"
