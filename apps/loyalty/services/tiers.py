"""Tier qualification: spend or points over the program's window, recalculated on every earn or reversal."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.loyalty.models import LedgerEntry, Member, Program, Tier
from apps.loyalty.selectors import member_qualifying_value
from apps.loyalty.services.ledger import member_lock

Kind = LedgerEntry.Kind
Status = LedgerEntry.Status


def tier_for_value(*, tiers: list[Tier], value: Decimal) -> Tier | None:
    """The best tier whose threshold the value reaches (tiers in ascending rank)."""
    best = None
    for tier in tiers:
        if value >= tier.threshold:
            best = tier
    return best


def tier_apply(*, member: Member, tiers: list[Tier], value: Decimal, now: datetime) -> list[str]:
    """Decide the member's tier for a qualifying ``value`` (in memory; returns the fields changed).

    Upgrades apply at once; downgrades follow the program's policy: never, at once, or after a grace
    period that a requalification meanwhile cancels."""
    program = member.program
    target = tier_for_value(tiers=tiers, value=value)
    current = next((tier for tier in tiers if tier.pk == member.tier_id), None)
    target_rank = target.rank if target else -1
    current_rank = current.rank if current else -1
    if target_rank > current_rank:
        member.tier, member.tier_achieved_at, member.tier_downgrade_at = target, now, None
        return ["tier", "tier_achieved_at", "tier_downgrade_at"]
    if target_rank == current_rank:
        if member.tier_downgrade_at is not None:
            member.tier_downgrade_at = None
            return ["tier_downgrade_at"]
        return []
    policy = program.tier_downgrade_policy
    if policy == Program.TierDowngradePolicy.AUTOMATIC or (
        policy == Program.TierDowngradePolicy.AFTER_DAYS
        and (program.tier_downgrade_after_days == 0
             or (member.tier_downgrade_at is not None and member.tier_downgrade_at <= now))
    ):
        member.tier, member.tier_achieved_at, member.tier_downgrade_at = target, now, None
        return ["tier", "tier_achieved_at", "tier_downgrade_at"]
    if policy == Program.TierDowngradePolicy.AFTER_DAYS and member.tier_downgrade_at is None:
        member.tier_downgrade_at = now + timedelta(days=program.tier_downgrade_after_days)
        return ["tier_downgrade_at"]
    return []


def tier_recalculate(*, member: Member, now: datetime | None = None) -> Tier | None:
    """Move the member to the tier its qualifying value earns (see ``tier_apply``) and save it.
    The caller holds the member's row lock (every ledger service does)."""
    tiers = list(Tier.objects.filter(program_id=member.program_id).order_by("rank"))
    if not tiers:
        return None
    now = now or timezone.now()
    changed = tier_apply(member=member, tiers=tiers, value=member_qualifying_value(member=member, now=now), now=now)
    if changed:
        member.save(update_fields=[*changed, "updated_at"])
    return member.tier


def tier_downgrades_apply_due(*, now: datetime | None = None) -> int:
    """Apply the downgrades whose grace period is over (members who requalified meanwhile keep their tier)."""
    now = now or timezone.now()
    applied = 0
    for member_id in list(Member.objects.filter(tier_downgrade_at__lte=now).values_list("pk", flat=True)):
        with transaction.atomic():
            member = member_lock(member_id=member_id)
            before = member.tier_id
            tier_recalculate(member=member, now=now)
            applied += member.tier_id != before
    return applied


@transaction.atomic
def member_tier_recalculate(*, member_id: uuid.UUID, now: datetime | None = None) -> Tier | None:
    """Recalculate one member's tier under its row lock."""
    member = member_lock(member_id=member_id)
    return tier_recalculate(member=member, now=now)
