"""Campaign API serializers: <Entity><Verb>Input / <Entity>Output."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.campaigns.models import (
    MIN_INTERVAL_SECONDS,
    Campaign,
    CampaignExecution,
    CampaignParticipant,
    CampaignRuleVersion,
    LeaderboardPrize,
)


class LeaderboardPrizeInput(serializers.Serializer):
    scope = serializers.ChoiceField(choices=LeaderboardPrize.Scope.choices, default=LeaderboardPrize.Scope.CAMPAIGN,
                                    help_text=_("The whole campaign's leaderboard, or each region's."))
    goal_id = serializers.CharField(max_length=40, help_text=_("The individual goal whose attainment ranks."))
    rank_from = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    rank_to = serializers.IntegerField(min_value=1, max_value=1000, required=False,
                                       help_text=_("Default: rank_from (one rank)."))
    points = serializers.IntegerField(min_value=1, max_value=1_000_000_000, help_text=_("Points per winner."))
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LeaderboardPrizeOutput(serializers.ModelSerializer):
    class Meta:
        model = LeaderboardPrize
        fields = ["id", "scope", "goal_id", "rank_from", "rank_to", "points", "name"]


PRIZES_HELP = _("Top-N leaderboard prizes, paid once when the campaign completes (ties share a rank and each "
                "tied winner gets its prize). Set before approval; on update a list replaces them.")


class CampaignCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    currency = serializers.ChoiceField(choices=Campaign.Currency.choices, default=Campaign.Currency.BRL)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, default="en")
    execution_interval_seconds = serializers.IntegerField(min_value=MIN_INTERVAL_SECONDS, required=False)
    retroactive_policy = serializers.ChoiceField(choices=Campaign.RetroactivePolicy.choices, required=False)
    regional_award_policy = serializers.ChoiceField(choices=Campaign.RegionalAwardPolicy.choices, required=False)
    document = serializers.JSONField(required=False, help_text=_("A rule document (see /api/rules/schema)."))
    source_text = serializers.CharField(required=False, allow_blank=True, default="",
                                        help_text=_("The campaign text the document was parsed from."))
    leaderboard_prizes = LeaderboardPrizeInput(many=True, required=False, help_text=PRIZES_HELP)


class CampaignUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=255, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    currency = serializers.ChoiceField(choices=Campaign.Currency.choices, required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    execution_interval_seconds = serializers.IntegerField(min_value=MIN_INTERVAL_SECONDS, required=False)
    retroactive_policy = serializers.ChoiceField(choices=Campaign.RetroactivePolicy.choices, required=False)
    regional_award_policy = serializers.ChoiceField(choices=Campaign.RegionalAwardPolicy.choices, required=False)
    document = serializers.JSONField(required=False, help_text=_(
        "New rules: on an approved or active campaign they become a new draft version."))
    source_text = serializers.CharField(required=False, allow_blank=True, default="")
    leaderboard_prizes = LeaderboardPrizeInput(many=True, required=False, help_text=PRIZES_HELP)


class CampaignCompleteInput(serializers.Serializer):
    final_execution = serializers.BooleanField(default=True, help_text=_(
        "Run a last execution before the final ranking (default). False: the latest progress stands."))


class CampaignApproveInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CampaignConnectionInput(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text=_(
        "postgresql://user:password@host:5432/database or mysql://...; tried before it is saved, stored "
        "encrypted, never shown again."))


class RuleVersionOutput(serializers.ModelSerializer):
    approved_by = serializers.CharField(source="approved_by.email", default=None, read_only=True)

    class Meta:
        model = CampaignRuleVersion
        fields = ["id", "number", "status", "document", "source_text", "sql", "dialect", "approved_by",
                  "approved_at", "approval_comment", "created_at"]


class CampaignOutput(serializers.ModelSerializer):
    leaderboard_prizes = LeaderboardPrizeOutput(many=True, read_only=True)
    connected = serializers.SerializerMethodField()
    running_version = serializers.SerializerMethodField()
    open_version = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = ["id", "name", "description", "status", "start_date", "end_date", "currency", "language",
                  "source_schema", "connected", "connection_engine", "execution_interval_seconds",
                  "retroactive_policy", "regional_award_policy", "loyalty_program_id", "tlp_status", "tlp_note",
                  "leaderboard_prizes", "running_version", "open_version", "completed_at", "created_at",
                  "updated_at"]

    def get_connected(self, campaign: Campaign) -> bool:
        return bool(campaign.connection_encrypted)

    def _version(self, campaign: Campaign, statuses: tuple[str, ...]) -> dict | None:
        version = next((v for v in campaign.rule_versions.all() if v.status in statuses), None)
        return RuleVersionOutput(version).data if version else None

    def get_running_version(self, campaign: Campaign) -> dict | None:
        return self._version(campaign, (CampaignRuleVersion.Status.APPROVED,))

    def get_open_version(self, campaign: Campaign) -> dict | None:
        return self._version(campaign, (CampaignRuleVersion.Status.DRAFT, CampaignRuleVersion.Status.PENDING))


class ExecutionOutput(serializers.ModelSerializer):
    rule_version = serializers.IntegerField(source="rule_version.number")

    class Meta:
        model = CampaignExecution
        fields = ["id", "status", "trigger", "rule_version", "started_at", "finished_at", "duration_ms", "query_ms",
                  "rows_scanned", "participants_updated", "points_allocated", "points_held",
                  "points_clawed_back", "points_unrecovered", "regions", "error"]


class ParticipantOutput(serializers.ModelSerializer):
    user = serializers.UUIDField(source="user_id", allow_null=True)

    class Meta:
        model = CampaignParticipant
        fields = ["id", "participant_key", "name", "email", "user", "region", "eligible", "ineligible_reason",
                  "progress", "points_owed", "points_allocated", "points_held", "updated_at"]


class ParticipantLinkInput(serializers.Serializer):
    participant_id = serializers.CharField(max_length=200, help_text=_("The salesperson id in your database."))
    email = serializers.EmailField(help_text=_("The email of a user of this workspace."))
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ParticipantImportInput(serializers.Serializer):
    file = serializers.FileField(required=False, help_text=_(
        "A UTF-8 CSV file whose first line names the columns salesperson_id, email, name, region."))
    source = serializers.ChoiceField(choices=[("database", _("The campaign's customer database"))], required=False,
                                     help_text=_("Import the salespeople of the campaign's customer database."))

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("file")) == bool(attrs.get("source")):
            raise serializers.ValidationError(_("Send either a CSV file or source \"database\"."))
        return attrs


class ParticipantImportSkippedOutput(serializers.Serializer):
    salesperson_id = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField())


class ParticipantImportOutput(serializers.Serializer):
    created = serializers.IntegerField(help_text=_("Users created and invited."))
    linked = serializers.IntegerField(help_text=_("Existing users linked and told."))
    unchanged = serializers.IntegerField(help_text=_("Salespeople already linked to the same user."))
    skipped = ParticipantImportSkippedOutput(many=True, help_text=_("Database rows not imported, with the reason."))


class PointsAllocateInput(serializers.Serializer):
    participant_id = serializers.CharField(max_length=200)
    points = serializers.IntegerField(min_value=1, max_value=1_000_000_000)
    reason = serializers.CharField(max_length=500)


class CampaignLedgerEntryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    status = serializers.CharField()
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    source = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()


class LeaderOutput(serializers.Serializer):
    rank = serializers.IntegerField()
    participant_id = serializers.CharField()
    name = serializers.CharField()
    region = serializers.CharField()
    attained = serializers.CharField()
    percent = serializers.CharField()
    eligible = serializers.BooleanField()


class GoalProgressOutput(serializers.Serializer):
    scope = serializers.CharField()
    target = serializers.CharField()
    leaders = LeaderOutput(many=True)
    by_region = serializers.DictField(child=LeaderOutput(many=True))


class PrizePaidOutput(serializers.Serializer):
    prize_id = serializers.UUIDField()
    name = serializers.CharField()
    scope = serializers.CharField()
    goal_id = serializers.CharField()
    rank = serializers.IntegerField()
    participant_id = serializers.CharField()
    participant_name = serializers.CharField()
    region = serializers.CharField()
    points = serializers.IntegerField()


class CampaignProgressOutput(serializers.Serializer):
    participants = serializers.IntegerField()
    eligible = serializers.IntegerField()
    points_owed = serializers.IntegerField()
    points_allocated = serializers.IntegerField()
    points_held = serializers.IntegerField()
    last_execution = ExecutionOutput(allow_null=True)
    goals = serializers.DictField(child=GoalProgressOutput())
    regions = serializers.DictField(child=serializers.DictField())
    prizes_paid = PrizePaidOutput(many=True, help_text=_("Leaderboard prizes paid when the campaign completed."))


class MyCampaignOutput(serializers.Serializer):
    campaign_id = serializers.UUIDField(source="campaign.id")
    name = serializers.CharField(source="campaign.name")
    status = serializers.CharField(source="campaign.status")
    start_date = serializers.DateField(source="campaign.start_date")
    end_date = serializers.DateField(source="campaign.end_date")
    participant_id = serializers.CharField(source="participant_key")
    eligible = serializers.BooleanField()
    ineligible_reason = serializers.CharField()
    points_allocated = serializers.IntegerField()


class SnapshotOutput(serializers.Serializer):
    taken_at = serializers.DateTimeField()
    eligible = serializers.BooleanField()
    goals = serializers.DictField()
    points_owed = serializers.IntegerField()


class MyProgressOutput(serializers.Serializer):
    participant = ParticipantOutput()
    history = SnapshotOutput(many=True)


class MyPointsOutput(serializers.Serializer):
    available = serializers.IntegerField()
    pending = serializers.IntegerField()
    lifetime = serializers.IntegerField()
    held_back = serializers.IntegerField(help_text=_(
        "Points the rules no longer pay after returned sales: future points wait until they are made up."))
    debt = serializers.IntegerField(help_text=_(
        "Points clawed back after returned sales that the balance could not cover: future points repay them "
        "first."))


class OfferOutput(serializers.Serializer):
    """A prize the participant can redeem (cheapest first), as the dashboard lists them."""

    id = serializers.CharField()
    name = serializers.CharField()
    points_cost = serializers.IntegerField()
    affordable = serializers.BooleanField()
    missing = serializers.IntegerField(help_text=_("Points still needed to redeem it (0 when affordable)."))


class RedeemInput(serializers.Serializer):
    prize_id = serializers.CharField(max_length=40)


class CampaignRedemptionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    prize_id = serializers.CharField()
    prize_name = serializers.CharField()
    points = serializers.IntegerField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
