"""Campaigns back office. The lifecycle (submit, approve, execute, complete, cancel) runs through the API and
the console, which call the services; here campaigns, executions, participants, allocations and redemptions
are read-only, and the top-N leaderboard prizes are edited through their services (before approval)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from apps.campaigns import services
from apps.campaigns.models import (
    Campaign,
    CampaignExecution,
    CampaignParticipant,
    CampaignRedemption,
    LeaderboardPrize,
    PointAllocation,
)
from apps.core.admin import ReadOnlyAdmin, ReadOnlyInline
from apps.core.errors import ApplicationError


class LeaderboardPrizeInline(ReadOnlyInline):
    model = LeaderboardPrize
    fields = ("scope", "goal_id", "rank_from", "rank_to", "points", "name")


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("name", "status", "start_date", "end_date", "currency", "retroactive_policy",
                    "regional_award_policy", "tlp_status", "completed_at", "created_at")
    list_filter = ("status", "currency", "retroactive_policy", "regional_award_policy", "tlp_status")
    search_fields = ("name", "description")
    exclude = ("connection_encrypted",)  # the customer's DSN is never shown again
    inlines = [LeaderboardPrizeInline]


class LeaderboardPrizeForm(forms.ModelForm):
    class Meta:
        model = LeaderboardPrize
        fields = ("campaign", "scope", "goal_id", "rank_from", "rank_to", "points", "name")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors or not data.get("campaign"):
            return data
        original = LeaderboardPrize.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        try:
            services.leaderboard_prize_check(campaign=data["campaign"], prize=original, **{
                name: data.get(name) for name in services.PRIZE_FIELDS})
        except ApplicationError as exc:
            details = "; ".join(str(value) for value in (exc.fields or {}).values())
            raise forms.ValidationError(f"{exc.message} {details}".strip()) from exc
        return data


@admin.register(LeaderboardPrize)
class LeaderboardPrizeAdmin(ModelAdmin):
    """Saved and deleted through the services: the whole set is checked (no overlapping ranks) and frozen
    once the campaign is approved."""

    form = LeaderboardPrizeForm
    list_display = ("campaign", "scope", "goal_id", "rank_from", "rank_to", "points", "name")
    list_filter = ("scope",)
    search_fields = ("campaign__name", "goal_id", "name")

    def save_model(self, request: HttpRequest, obj: LeaderboardPrize, form: Any, change: bool) -> None:
        original = LeaderboardPrize.objects.filter(pk=obj.pk).first() if change else None
        saved = services.leaderboard_prize_save(campaign=form.cleaned_data["campaign"], prize=original, **{
            name: form.cleaned_data.get(name) for name in services.PRIZE_FIELDS})
        obj.pk = saved.pk
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: LeaderboardPrize) -> None:
        try:
            services.leaderboard_prize_delete(prize=obj)
        except ApplicationError as exc:
            messages.error(request, exc.message)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[LeaderboardPrize]) -> None:
        for prize in queryset:
            self.delete_model(request, prize)


@admin.register(CampaignExecution)
class CampaignExecutionAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "status", "trigger", "started_at", "duration_ms", "query_ms", "rows_scanned",
                    "participants_updated", "points_allocated", "points_held", "points_clawed_back",
                    "points_unrecovered")
    list_filter = ("status", "trigger")
    search_fields = ("campaign__name", "error")
    ordering = ("-started_at",)


@admin.register(CampaignParticipant)
class CampaignParticipantAdmin(ReadOnlyAdmin):
    list_display = ("participant_key", "campaign", "name", "email", "region", "eligible", "ineligible_reason",
                    "points_owed", "points_allocated", "points_held")
    list_filter = ("eligible", "campaign")
    search_fields = ("participant_key", "name", "email", "region")


@admin.register(PointAllocation)
class PointAllocationAdmin(ReadOnlyAdmin):
    list_display = ("idempotency_key", "campaign", "kind", "goal_id", "level", "points", "unrecovered",
                    "created_at")
    list_filter = ("kind",)
    search_fields = ("idempotency_key", "goal_id")
    ordering = ("-id",)


@admin.register(CampaignRedemption)
class CampaignRedemptionAdmin(ReadOnlyAdmin):
    list_display = ("participant", "campaign", "prize_name", "points", "status", "created_at", "completed_at",
                    "cancelled_at")
    list_filter = ("status",)
    search_fields = ("prize_name", "participant__participant_key")

