"""Reads of campaigns."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet

from apps.campaigns.models import (
    Campaign,
    CampaignExecution,
    CampaignParticipant,
    CampaignRedemption,
    CampaignRuleVersion,
    LeaderboardPrize,
    PointAllocation,
    ProgressSnapshot,
)
from apps.core.crypto import DecryptionError, secret_decrypt
from apps.rules.source_db import SourceDatabase, source_parse_url


def campaign_get(*, campaign_id: Any) -> Campaign | None:
    """The campaign, or None when it does not exist in this tenant (or the id is not a UUID)."""
    try:
        return Campaign.objects.select_related("source_schema").filter(pk=campaign_id).first()
    except (ValidationError, ValueError, TypeError):
        return None


def campaign_list(*, status: str | None = None, search: str | None = None) -> QuerySet[Campaign]:
    queryset = Campaign.objects.select_related("source_schema", "created_by").order_by("-created_at", "id")
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(name__icontains=search)
    return queryset


def campaign_list_with_rules(*, status: str | None = None, search: str | None = None) -> QuerySet[Campaign]:
    """``campaign_list`` with what a campaign's full description reads, in two prefetches for any number of
    campaigns: its rule versions that still count (running, draft or pending; with their approver) and its
    leaderboard prizes."""
    versions = CampaignRuleVersion.objects.select_related("approved_by").exclude(
        status=CampaignRuleVersion.Status.SUPERSEDED)
    return campaign_list(status=status, search=search).prefetch_related(
        Prefetch("rule_versions", queryset=versions), "leaderboard_prizes")


def campaign_open_version(*, campaign: Campaign) -> CampaignRuleVersion | None:
    """The draft or pending version (at most one), or None."""
    return campaign.rule_versions.filter(status__in=[CampaignRuleVersion.Status.DRAFT,
                                                     CampaignRuleVersion.Status.PENDING]).first()


def campaign_last_calculation(*, campaign: Campaign) -> CampaignExecution | None:
    """The campaign's latest successful execution (a participant's own ``last_execution`` is the last one
    that changed them, which may be older)."""
    return (CampaignExecution.objects.filter(campaign=campaign, status=CampaignExecution.Status.SUCCEEDED)
            .order_by("-started_at", "id").first())


def campaign_running_version(*, campaign: Campaign) -> CampaignRuleVersion | None:
    """The approved version (what executions run), or None."""
    return campaign.rule_versions.filter(status=CampaignRuleVersion.Status.APPROVED).first()


def campaign_versions(*, campaign: Campaign) -> QuerySet[CampaignRuleVersion]:
    return campaign.rule_versions.select_related("approved_by").order_by("-number")


def campaign_source_database(*, campaign: Campaign) -> SourceDatabase | None:
    """The customer's database: the campaign's own connection (decrypted here, in the caller: the worker),
    else the one its schema was introspected from; None when neither is known or the key changed."""
    if campaign.connection_encrypted:
        try:
            return source_parse_url(url=secret_decrypt(campaign.connection_encrypted))
        except DecryptionError:
            return None
    if campaign.source_schema is not None:
        from apps.rules.services import source_database_of

        return source_database_of(source_schema=campaign.source_schema)
    return None


def execution_list(*, campaign: Campaign) -> QuerySet[CampaignExecution]:
    return campaign.executions.select_related("rule_version").order_by("-started_at", "id")


def participant_list(*, campaign: Campaign, eligible: bool | None = None,
                     region: str | None = None) -> QuerySet[CampaignParticipant]:
    queryset = campaign.participants.select_related("user").order_by("participant_key", "id")
    if eligible is not None:
        queryset = queryset.filter(eligible=eligible)
    if region:
        queryset = queryset.filter(region=region)
    return queryset


def participant_for_user(*, campaign: Campaign, user: Any) -> CampaignParticipant | None:
    return campaign.participants.filter(user=user).first()


def participant_campaigns(*, user: Any) -> QuerySet[CampaignParticipant]:
    return CampaignParticipant.objects.filter(user=user).select_related("campaign").order_by(
        "-campaign__start_date", "campaign_id")


def participant_history(*, participant: CampaignParticipant) -> QuerySet[ProgressSnapshot]:
    return participant.snapshots.order_by("taken_at", "id")


def allocation_list(*, campaign: Campaign) -> QuerySet[PointAllocation]:
    return campaign.allocations.select_related("participant").order_by("id")


def participant_member(*, participant: CampaignParticipant) -> Any:
    """The participant's loyalty member (None before the first execution enrolled them)."""
    if participant.member_id is None:
        return None
    from apps.loyalty.selectors import member_list

    return member_list().filter(pk=participant.member_id).first()


def _attained(goal: dict[str, Any] | None) -> Decimal:
    try:
        return Decimal(str((goal or {}).get("attained") or 0))
    except InvalidOperation:
        return Decimal(0)


def competition_ranks(values: list[Decimal]) -> list[int]:
    """Ranks of values sorted best first, ties sharing a rank and the next rank skipped (1, 2, 2, 4)."""
    ranks: list[int] = []
    for index, value in enumerate(values):
        ranks.append(ranks[-1] if index and value == values[index - 1] else index + 1)
    return ranks


class RankedParticipant(NamedTuple):
    rank: int
    participant_id: Any
    participant_key: str
    member_id: Any
    region: str
    attained: Decimal


def leaderboard_rank(*, campaign: Campaign, goal_id: str,
                     by_region: bool = False) -> dict[str, list[RankedParticipant]]:
    """The final ranking of an individual goal, as leaderboard prizes pay it: eligible participants with an
    attainment above zero, best first; ties share a rank and the next rank is skipped (1, 2, 2, 4), so every
    tied participant wins the prize of their rank. One board (key ``""``), or one per region."""
    rows = []
    for pk, key, member_id, region, progress in campaign.participants.filter(eligible=True).values_list(
            "id", "participant_key", "member_id", "region", "progress"):
        attained = _attained(((progress or {}).get("goals") or {}).get(goal_id))
        if attained > 0 and member_id is not None:
            rows.append((attained, key, pk, member_id, region))
    boards: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        boards.setdefault(row[4] if by_region else "", []).append(row)
    result = {}
    for board, entries in sorted(boards.items()):
        entries.sort(key=lambda row: (-row[0], row[1]))
        ranks = competition_ranks([row[0] for row in entries])
        result[board] = [RankedParticipant(rank, pk, key, member_id, region, attained)
                         for rank, (attained, key, pk, member_id, region) in zip(ranks, entries, strict=True)]
    return result


def campaign_prizes(*, campaign: Campaign) -> list[dict[str, Any]]:
    """The prizes of the campaign's running rules (none before approval)."""
    version = campaign_running_version(campaign=campaign)
    return list((version.document.get("prizes") or []) if version else [])


def leaderboard_prize_list(*, campaign: Campaign) -> QuerySet[LeaderboardPrize]:
    return campaign.leaderboard_prizes.order_by("scope", "goal_id", "rank_from", "id")


def prize_award_list(*, campaign: Campaign) -> QuerySet[PointAllocation]:
    """The leaderboard prizes paid at completion, with their winner."""
    return campaign.allocations.filter(kind=PointAllocation.Kind.PRIZE).select_related(
        "participant", "prize").order_by("prize__scope", "goal_id", "participant__region", "level", "id")


def campaign_progress(*, campaign: Campaign, top: int = 10) -> dict[str, Any]:
    """The campaign's latest progress: totals, each region's attainment of each goal, and a leaderboard per
    goal (overall and per region, top ``top``; ties share a rank: 1, 2, 2, 4), from the participants' latest
    progress (one query), and the leaderboard prizes paid at completion."""
    participants = list(campaign.participants.only(
        "participant_key", "name", "region", "eligible", "ineligible_reason", "progress", "points_allocated",
        "points_held", "points_owed"))
    latest = campaign_last_calculation(campaign=campaign)
    goals: dict[str, dict[str, Any]] = {}
    regions: dict[str, dict[str, Any]] = {}
    for participant in participants:
        for goal_id, goal in (participant.progress.get("goals") or {}).items():
            entry = goals.setdefault(goal_id, {"scope": goal.get("scope"), "target": goal.get("target"),
                                               "leaders": [], "by_region": {}})
            row = {"participant_id": participant.participant_key, "name": participant.name,
                   "region": participant.region, "attained": goal.get("attained"), "percent": goal.get("percent"),
                   "eligible": participant.eligible}
            if goal.get("scope") == "individual":
                entry["leaders"].append(row)
                entry["by_region"].setdefault(participant.region, []).append(row)
            elif goal.get("scope") == "region":
                regions.setdefault(participant.region, {})[goal_id] = {
                    "attained": goal.get("attained"), "percent": goal.get("percent"), "target": goal.get("target")}

    def ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ordered = sorted(rows, key=lambda r: (-_attained(r), r["participant_id"]))
        ranks = competition_ranks([_attained(row) for row in ordered])
        return [{**row, "rank": rank} for rank, row in zip(ranks, ordered, strict=True)][:top]

    for entry in goals.values():
        entry["leaders"] = ranked(entry["leaders"])
        entry["by_region"] = {region: ranked(rows) for region, rows in sorted(entry["by_region"].items())}
    return {
        "participants": len(participants),
        "eligible": sum(1 for p in participants if p.eligible),
        "points_owed": sum(p.points_owed for p in participants),
        "points_allocated": sum(p.points_allocated for p in participants),
        "points_held": sum(p.points_held for p in participants),
        "last_execution": latest,
        "goals": goals,
        "regions": regions,
        "prizes_paid": [
            {"prize_id": award.prize_id, "name": award.prize.name if award.prize else "",
             "scope": award.prize.scope if award.prize else "", "goal_id": award.goal_id, "rank": award.level,
             "participant_id": award.participant.participant_key, "participant_name": award.participant.name,
             "region": award.participant.region, "points": award.points}
            for award in prize_award_list(campaign=campaign)],
    }


def redemption_list_for(*, participant: CampaignParticipant) -> QuerySet[CampaignRedemption]:
    return participant.redemptions.order_by("-created_at", "id")
