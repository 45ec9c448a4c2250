from __future__ import annotations

from decimal import Decimal
from typing import Any

import factory

from apps.referrals.models import ReferralCampaign
from apps.referrals.services import referral_campaign_create


class ReferralCampaignFactory(factory.django.DjangoModelFactory):
    """A campaign made through ``referral_campaign_create`` (so it is valid by the service's rules).
    ``program`` is required: programs belong to apps.loyalty and are made through its services."""

    class Meta:
        model = ReferralCampaign

    name = factory.Sequence(lambda n: f"Bring a friend {n}")
    referrer_reward_value = Decimal("500")
    referred_reward_value = Decimal("250")
    min_purchase_amount = Decimal("20.00")
    channels = factory.LazyFunction(lambda: ["email", "whatsapp", "copy_link"])

    @classmethod
    def _create(cls, model_class: type, *args: Any, **kwargs: Any) -> ReferralCampaign:
        return referral_campaign_create(**kwargs)
