"""Reads of campaigns."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from apps.campaigns.models import (
    Campaign,
    CampaignExecution,
    CampaignParticipant,
    CampaignRedemption,
    CampaignRuleVersion,
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


def campaign_open_version(*, campaign: Campaign) -> CampaignRuleVersion | None:
    """The draft or pending version (at most one), or None."""
    return campaign.rule_versions.filter(status__in=[CampaignRuleVersion.Status.DRAFT,
                                                     CampaignRuleVersion.Status.PENDING]).first()


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


def campaign_progress(*, campaign: Campaign, top: int = 10) -> dict[str, Any]:
    """The campaign's latest progress: totals, each region's attainment of each goal, and a leaderboard per
    goal (overall and per region, top ``top``), from the participants' latest snapshot (one query)."""
    participants = list(campaign.participants.only(
        "participant_key", "name", "region", "eligible", "ineligible_reason", "progress", "points_allocated",
        "points_held", "points_owed"))
    latest = campaign.executions.filter(status=CampaignExecution.Status.SUCCEEDED).order_by("-started_at").first()
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
        ordered = sorted(rows, key=lambda r: (-float(r["attained"] or 0), r["participant_id"]))[:top]
        return [{**row, "rank": index + 1} for index, row in enumerate(ordered)]

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
    }


def redemption_list_for(*, participant: CampaignParticipant) -> QuerySet[CampaignRedemption]:
    return participant.redemptions.order_by("-created_at", "id")
