"""Reads for referral campaigns, referrals, clicks and fingerprints."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from apps.loyalty.selectors import member_get_by_referral_code
from apps.referrals.models import Channel, Fingerprint, Referral, ReferralCampaign

_ORDER = ("-created_at", "-id")
_CODE_PATTERN = re.compile(r"^[A-Za-z0-9]{4,32}$")


def _uuid(value: uuid.UUID | str) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


def referrer_by_code(*, code: str) -> Any | None:
    """The member whose referral code this is (codes are matched case-insensitively); None for junk input."""
    if not _CODE_PATTERN.match(code or ""):
        return None
    return member_get_by_referral_code(code=code.upper())


def referral_link_resolve(*, code: str) -> tuple[Any, ReferralCampaign] | None:
    """The referrer and live campaign behind ``/r/<code>``; None for an unknown code or no active campaign."""
    referrer = referrer_by_code(code=code)
    if referrer is None:
        return None
    campaign = referral_campaign_active_for_program(program=referrer.program)
    if campaign is None:
        return None
    return referrer, campaign


def referral_campaign_list() -> QuerySet[ReferralCampaign]:
    """Campaigns that are not deleted, newest first (id breaks ties)."""
    return ReferralCampaign.objects.filter(deleted_at__isnull=True).select_related("program").order_by(*_ORDER)


def referral_campaign_get(*, campaign_id: uuid.UUID | str) -> ReferralCampaign | None:
    pk = _uuid(campaign_id)
    return referral_campaign_list().filter(pk=pk).first() if pk else None


def referral_campaign_active_for_program(*, program: Any) -> ReferralCampaign | None:
    """The program's live campaign (the newest active one when several are active)."""
    return referral_campaign_list().filter(program=program, status=ReferralCampaign.Status.ACTIVE).first()


def referral_list() -> QuerySet[Referral]:
    return Referral.objects.select_related("campaign", "referrer", "referred", "reviewed_by").order_by(*_ORDER)


def referral_get(*, referral_id: uuid.UUID | str) -> Referral | None:
    pk = _uuid(referral_id)
    return referral_list().filter(pk=pk).first() if pk else None


def fraud_review_queue() -> QuerySet[Referral]:
    """Flagged referrals, most suspicious first, then oldest first, so reviewers work the worst cases."""
    return referral_list().filter(status=Referral.Status.FLAGGED).order_by("-fraud_score", "created_at", "id")


def referral_open_for_referred(*, program: Any, member: Any, email_normalized: str) -> Referral | None:
    """The pending or flagged referral that brought this member (or their mailbox) into the program."""
    return (
        Referral.objects.filter(campaign__program=program,
                                status__in=[Referral.Status.PENDING, Referral.Status.FLAGGED])
        .filter(Q(referred=member) | Q(referred__isnull=True, referred_email_normalized=email_normalized))
        .order_by("created_at", "id")
        .first()
    )


def referral_of_referred(*, program: Any, member: Any) -> Referral | None:
    """The referral (any status) that brought this member into the program, if any."""
    return Referral.objects.filter(campaign__program=program, referred=member).order_by("created_at", "id").first()


def referral_existing_for_referred(*, program: Any, member: Any | None, email_normalized: str) -> Referral | None:
    """Any referral of this person in any campaign of the program (a person is referred once per program)."""
    condition = Q(referred_email_normalized=email_normalized)
    if member is not None:
        condition |= Q(referred=member)
    return (Referral.objects.filter(campaign__program=program).filter(condition)
            .order_by("created_at", "id").first())


def referral_count_for_referrer(*, campaign: ReferralCampaign, referrer: Any) -> int:
    """Referrals that count against the per-member maximum: everything but expired and fraud."""
    return Referral.objects.filter(campaign=campaign, referrer=referrer).exclude(
        status__in=[Referral.Status.EXPIRED, Referral.Status.FRAUD]
    ).count()


def referral_count_by_referrer_since(*, referrer: Any, since: datetime,
                                     exclude_referral_id: uuid.UUID | None = None) -> int:
    queryset = Referral.objects.filter(referrer=referrer, signed_up_at__gte=since)
    if exclude_referral_id is not None:
        queryset = queryset.exclude(pk=exclude_referral_id)
    return queryset.count()


def fingerprint_kinds_shared_with_member(*, member: Any, hashes: Mapping[str, str]) -> set[str]:
    """Kinds whose hash is among those recorded for ``member``."""
    return _matching_kinds(Fingerprint.objects.filter(member=member), hashes)


def fingerprint_kinds_shared_with_referrals_of(*, referrer: Any, hashes: Mapping[str, str],
                                               exclude_referral_id: uuid.UUID | None = None) -> set[str]:
    """Kinds whose hash was submitted with another referral by the same referrer."""
    queryset = Fingerprint.objects.filter(referral__referrer=referrer)
    if exclude_referral_id is not None:
        queryset = queryset.exclude(referral_id=exclude_referral_id)
    return _matching_kinds(queryset, hashes)


def _matching_kinds(queryset: QuerySet[Fingerprint], hashes: Mapping[str, str]) -> set[str]:
    condition = Q()
    for kind, value in hashes.items():
        if value:
            condition |= Q(kind=kind, value_hash=value)
    if not condition:
        return set()
    return set(queryset.filter(condition).values_list("kind", flat=True).distinct())


def referral_campaign_stats(*, campaign: ReferralCampaign) -> dict[str, Any]:
    """Counters, funnel per channel and the viral coefficient of one campaign.

    ``viral_coefficient`` (K) is completed referrals per member who shared the link (had a click or a referral):
    how many new customers each sharing customer brought in.
    """
    clicks = dict(campaign.clicks.values_list("channel").annotate(total=Count("id")).order_by())
    referrals = campaign.referrals.values("channel").annotate(
        signups=Count("id"),
        completed=Count("id", filter=Q(status=Referral.Status.COMPLETED)),
        revenue=Sum("first_purchase_value", filter=Q(status=Referral.Status.COMPLETED)),
    ).order_by()
    by_channel = {row["channel"]: row for row in referrals}
    channels = []
    for value, _label in Channel.choices:
        row = by_channel.get(value, {})
        channel_clicks = clicks.get(value, 0)
        signups = row.get("signups", 0)
        completed = row.get("completed", 0)
        channels.append({
            "channel": value,
            "clicks": channel_clicks,
            "signups": signups,
            "completed": completed,
            "revenue": row.get("revenue") or Decimal("0"),
            "click_to_signup_rate": _rate(signups, channel_clicks),
        })
    sharers = set(campaign.clicks.values_list("referrer_id", flat=True).distinct())
    sharers |= set(campaign.referrals.values_list("referrer_id", flat=True).distinct())
    return {
        "total_clicks": campaign.total_clicks,
        "total_referrals": campaign.total_referrals,
        "pending_referrals": campaign.pending_referrals,
        "flagged_referrals": campaign.flagged_referrals,
        "successful_referrals": campaign.successful_referrals,
        "expired_referrals": campaign.expired_referrals,
        "fraud_referrals": campaign.fraud_referrals,
        "revenue_generated": campaign.revenue_generated,
        "conversion_rate": campaign.conversion_rate,
        "sharing_members": len(sharers),
        "viral_coefficient": _rate(campaign.successful_referrals, len(sharers)),
        "channels": channels,
    }


def referral_campaign_counters_recount(*, campaign: ReferralCampaign) -> dict[str, Any]:
    """The counters recomputed from the rows (what the stored counters must always equal)."""
    by_status = dict(campaign.referrals.values_list("status").annotate(total=Count("id")).order_by())
    revenue = campaign.referrals.filter(status=Referral.Status.COMPLETED).aggregate(
        total=Sum("first_purchase_value"))["total"] or Decimal("0")
    return {
        "total_clicks": campaign.clicks.count(),
        "total_referrals": sum(by_status.values()),
        "pending_referrals": by_status.get(Referral.Status.PENDING, 0),
        "flagged_referrals": by_status.get(Referral.Status.FLAGGED, 0),
        "successful_referrals": by_status.get(Referral.Status.COMPLETED, 0),
        "expired_referrals": by_status.get(Referral.Status.EXPIRED, 0),
        "fraud_referrals": by_status.get(Referral.Status.FRAUD, 0),
        "revenue_generated": revenue,
    }


def _rate(numerator: int, denominator: int) -> Decimal:
    if not denominator:
        return Decimal("0")
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.0001"))
