"""Reads for the member dashboard (``/me/``): who the signed-in user is as a loyalty member, and what the
page shows them. Kept apart from ``selectors.py`` so the dashboard does not touch the ledger's core reads.

A signed-in user is a member when a ``Member`` of a live program (active, or paused: the points are still
theirs to see) has the user's email, compared case-insensitively. Members are keyed by the shop's customer
id, not by user, so the email is the only link the two share. When the email is enrolled in several
programs, an active one beats a paused one, then the oldest program wins. Draft programs are never shown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from apps.loyalty.models import Member, Program, Reward
from apps.loyalty.selectors import MemberBalance
from apps.referrals.models import Channel, Referral, ReferralCampaign
from apps.referrals.selectors import referral_campaign_active_for_program, referral_list


def member_for_user(*, user: Any) -> Member | None:
    """The loyalty member the signed-in ``user`` is (see the module docstring); None when there is none."""
    email = (getattr(user, "email", "") or "").strip()
    if not email or not getattr(user, "is_authenticated", False):
        return None
    active_first = Case(When(program__status=Program.Status.ACTIVE, then=Value(0)), default=Value(1),
                        output_field=IntegerField())
    return (
        Member.objects.filter(email__iexact=email,
                              program__status__in=[Program.Status.ACTIVE, Program.Status.PAUSED])
        .select_related("program", "tier")
        .order_by(active_first, "program__created_at", "program_id", "enrolled_at", "id")
        .first()
    )


@dataclass(frozen=True)
class RewardOption:
    reward: Reward
    redeemable: bool
    points_missing: int
    out_of_stock: bool


def member_reward_options(*, member: Member, now: datetime | None = None) -> list[RewardOption]:
    """The program's active rewards valid now, cheapest first, each saying whether the member can redeem it
    (enough available points, the program minimum met, in stock). Empty when the program offers no rewards."""
    now = now or timezone.now()
    program = member.program
    if not program.rewards_enabled:
        return []
    rewards = (
        Reward.objects.filter(program=program, status=Reward.Status.ACTIVE)
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=now))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
        .order_by("points_cost", "name", "id")
    )
    options = []
    for reward in rewards:
        needed = max(reward.points_cost, program.min_redeem_points)
        out_of_stock = reward.stock_limited and reward.stock_available < 1
        missing = max(0, needed - member.available)
        options.append(RewardOption(reward=reward, redeemable=not missing and not out_of_stock,
                                    points_missing=missing, out_of_stock=out_of_stock))
    return options


def member_reward_get(*, member: Member, reward_id: Any) -> Reward | None:
    """One of the member's program's rewards by id; None for another program's reward or junk input."""
    try:
        pk = uuid.UUID(str(reward_id))
    except ValueError:
        return None
    return Reward.objects.filter(program_id=member.program_id, pk=pk).first()


@dataclass(frozen=True)
class ReferralSummary:
    code: str
    campaign: ReferralCampaign | None
    channels: list[str]
    referred: int
    completed: int


def member_referral_summary(*, member: Member) -> ReferralSummary:
    """The member's referral code, the program's live referral campaign (None: the link leads nowhere now),
    the channels it offers (all when it names none) and how many friends the member referred (fraud and
    expired referrals not counted) and how many of those completed."""
    campaign = referral_campaign_active_for_program(program=member.program)
    channels = list(campaign.channels) if campaign is not None and campaign.channels else list(Channel.values)
    referrals = referral_list().filter(referrer=member).exclude(
        status__in=[Referral.Status.FRAUD, Referral.Status.EXPIRED])
    return ReferralSummary(
        code=member.referral_code, campaign=campaign, channels=channels, referred=referrals.count(),
        completed=referrals.filter(status=Referral.Status.COMPLETED).count(),
    )


def tier_progress_percent(*, balance: MemberBalance) -> int | None:
    """How far (0..100) the member is towards the next tier's threshold; None at the top tier."""
    if balance.next_tier is None:
        return None
    threshold = balance.next_tier.threshold
    if threshold <= 0:
        return 100
    ratio = balance.qualifying_value / threshold * Decimal(100)
    return int(max(Decimal(0), min(Decimal(100), ratio)))
