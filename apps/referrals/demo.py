"""Demo data: a referral campaign and referrals among a program's existing members, through the services."""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction

from apps.referrals.models import Channel, FraudPolicy, IncentiveType, Referral, ReferralCampaign
from apps.referrals.services import (
    fingerprints_record,
    referral_campaign_create,
    referral_on_first_purchase,
    referral_signup,
)


@transaction.atomic
def referrals_demo_data(*, program: Any, members: Sequence[Any], seed: int = 7) -> ReferralCampaign:
    """Create the program's "Bring a friend" campaign and referrals among ``members``: about a quarter of them
    refer one to three others; most referrals convert, some stay pending, and a few share a device with their
    referrer and land in the fraud review queue. Deterministic for a given ``seed``; needs an active program."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    campaign = referral_campaign_create(
        program=program, name="Bring a friend",
        description="Invite friends: you both earn points on their first purchase.",
        referrer_reward_type=IncentiveType.POINTS, referrer_reward_value=Decimal("500"),
        referred_reward_type=IncentiveType.POINTS, referred_reward_value=Decimal("250"),
        channels=list(Channel.values), min_purchase_amount=Decimal("20.00"), max_referrals_per_member=10,
        require_email_verification=False, fraud_policy=FraudPolicy.FLAG,
    )
    pool = list(members)
    rng.shuffle(pool)
    referrers = pool[: max(1, len(pool) // 4)]
    candidates = pool[len(referrers):]
    channels = list(Channel.values)
    for referrer in referrers:
        fingerprints_record(member=referrer, ip=f"198.51.100.{rng.randint(1, 254)}",
                            device_id=f"demo-device-{referrer.pk}")
        for _index in range(rng.randint(1, 3)):
            if not candidates:
                break
            referred = candidates.pop()
            suspicious = rng.random() < 0.08
            referral, _created = referral_signup(
                code=referrer.referral_code, campaign=campaign, referred_member=referred,
                channel=rng.choice(channels), email_verified=True,
                ip=f"203.0.113.{rng.randint(1, 254)}",
                device_id=f"demo-device-{referrer.pk}" if suspicious else f"demo-device-{referred.pk}",
            )
            if referral.status == Referral.Status.PENDING and rng.random() < 0.7:
                total = Decimal(rng.randint(15, 180))
                referral_on_first_purchase(member=referred, order_id=f"demo-referral-{referral.pk}",
                                           order_total=total, currency=campaign.currency)
    campaign.refresh_from_db()
    return campaign
