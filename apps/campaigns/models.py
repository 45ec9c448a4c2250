"""Sales-incentive campaigns: the campaign, its rule document versions, executions, participants, their
progress snapshots and the points allocated to them (the points themselves live in the loyalty ledger)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from apps.core.models import BaseModel

MIN_INTERVAL_SECONDS = 60
DEFAULT_INTERVAL_SECONDS = 3600


class Campaign(BaseModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        APPROVED = "approved", _("Approved")
        ACTIVE = "active", _("Active")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    class Currency(models.TextChoices):
        BRL = "BRL", "BRL"
        USD = "USD", "USD"
        EUR = "EUR", "EUR"
        MXN = "MXN", "MXN"

    class RetroactivePolicy(models.TextChoices):
        HOLD = "hold", _("Keep paid points; hold future points until attainment recovers")
        CLAWBACK = "clawback", _("Take back points no longer earned")

    class RegionalAwardPolicy(models.TextChoices):
        ALL_ELIGIBLE = "all_eligible", _("Every eligible participant of the region")
        CONTRIBUTORS_ONLY = "contributors_only", _("Only eligible participants who sold towards the goal")
        NONE = "none", _("No regional award")

    class TlpStatus(models.TextChoices):
        NOT_PROVISIONED = "", _("Not provisioned")
        PROVISIONED = "provisioned", _("Provisioned")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")

    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=50, choices=Status.choices, default=Status.DRAFT)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.BRL)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("created by"),
    )
    source_schema = models.ForeignKey(
        "rules.SourceSchema", on_delete=models.SET_NULL, null=True, blank=True, related_name="campaigns",
        verbose_name=_("source schema"),
    )
    # The customer's database (a DSN, Fernet-encrypted with apps.core.crypto); empty: the connection the
    # schema was introspected from, if any.
    connection_encrypted = models.TextField(_("source database connection (encrypted)"), blank=True, default="")
    connection_engine = models.CharField(_("source database engine"), max_length=20, blank=True, default="")
    execution_interval_seconds = models.PositiveIntegerField(
        _("execution interval (seconds)"), default=DEFAULT_INTERVAL_SECONDS,
        validators=[MinValueValidator(MIN_INTERVAL_SECONDS)])
    retroactive_policy = models.CharField(_("retroactive changes"), max_length=10, choices=RetroactivePolicy.choices,
                                          default=RetroactivePolicy.HOLD)
    regional_award_policy = models.CharField(
        _("regional award"), max_length=20, choices=RegionalAwardPolicy.choices,
        default=RegionalAwardPolicy.ALL_ELIGIBLE)
    loyalty_program_id = models.UUIDField(_("loyalty program"), null=True, blank=True)
    tlp_status = models.CharField(_("TLP provisioning"), max_length=12, choices=TlpStatus.choices, blank=True,
                                  default=TlpStatus.NOT_PROVISIONED)
    tlp_note = models.TextField(_("TLP provisioning note"), blank=True, default="")
    tlp_point_type_id = models.CharField(_("TLP point type"), max_length=100, blank=True, default="")
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=models.Q(end_date__gte=models.F("start_date")),
                                   name="campaigns_campaign_period_valid"),
            models.CheckConstraint(condition=models.Q(execution_interval_seconds__gte=MIN_INTERVAL_SECONDS),
                                   name="campaigns_campaign_interval_min"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignRuleVersion(BaseModel):
    """One version of a campaign's rule document; approval freezes it with its compiled, guarded SQL."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Pending approval")
        APPROVED = "approved", _("Approved")
        SUPERSEDED = "superseded", _("Superseded")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="rule_versions",
                                 verbose_name=_("campaign"))
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    document = models.JSONField(_("rule document"))
    source_text = models.TextField(_("campaign text"), blank=True, default="")
    sql = models.TextField(_("compiled SQL"), blank=True, default="")
    params = models.JSONField(_("SQL parameters"), default=list, blank=True)
    columns = models.JSONField(_("result columns"), default=list, blank=True)
    dialect = models.CharField(_("SQL dialect"), max_length=20, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("created by"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approval_comment = models.TextField(_("approval comment"), blank=True, default="")

    class Meta:
        verbose_name = _("campaign rule version")
        verbose_name_plural = _("campaign rule versions")
        ordering = ("campaign_id", "-number")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "number"], name="campaigns_ruleversion_unique_number"),
            models.UniqueConstraint(fields=["campaign"], condition=models.Q(status="approved"),
                                    name="campaigns_ruleversion_one_approved"),
            models.UniqueConstraint(fields=["campaign"], condition=models.Q(status__in=["draft", "pending"]),
                                    name="campaigns_ruleversion_one_open"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} v{self.number}"


class CampaignExecution(BaseModel):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("Manual")
        SCHEDULED = "scheduled", _("Scheduled")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="executions",
                                 verbose_name=_("campaign"))
    rule_version = models.ForeignKey(CampaignRuleVersion, on_delete=models.PROTECT, related_name="executions",
                                     verbose_name=_("rule version"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    triggered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("triggered by"))
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    query_ms = models.PositiveIntegerField(_("query time (ms)"), null=True, blank=True)
    rows_scanned = models.PositiveIntegerField(_("rows returned"), default=0)
    participants_updated = models.PositiveIntegerField(_("participants updated"), default=0)
    points_allocated = models.BigIntegerField(_("points allocated"), default=0)
    points_held = models.BigIntegerField(_("points held"), default=0)
    points_clawed_back = models.BigIntegerField(_("points clawed back"), default=0)
    # Claw-backs the members' balances could not cover: recorded as their debt, repaid by their next points.
    points_unrecovered = models.BigIntegerField(_("points recorded as debt"), default=0)
    error = models.TextField(_("error"), blank=True, default="")
    # Per region, each regional goal's attainment and percentage as this run found them ({region: {goal:
    # [attained, percent]}}): the next run compares with them to rewrite only what a region's change touched.
    regions = models.JSONField(_("regional attainment"), default=dict, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("campaign execution")
        verbose_name_plural = _("campaign executions")
        ordering = ("-started_at", "id")


class CampaignParticipant(BaseModel):
    """A salesperson of the customer's database taking part in a campaign (a loyalty member of its program)."""

    # No index of its own: campaigns_participant_unique_key (campaign_id, participant_key) starts with it.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="participants",
                                 verbose_name=_("campaign"), db_index=False)
    participant_key = models.CharField(_("salesperson id"), max_length=200)
    name = models.CharField(_("name"), max_length=200, blank=True, default="")
    email = models.EmailField(_("email"), blank=True, default="")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="campaign_participations", verbose_name=_("user"),
                             db_index=False)  # partial index in Meta: most participants have no user
    member_id = models.UUIDField(_("loyalty member"), null=True, blank=True)
    region = models.CharField(_("region"), max_length=200, blank=True, default="")
    eligible = models.BooleanField(_("eligible"), default=True)
    ineligible_reason = models.CharField(_("ineligible reason"), max_length=100, blank=True, default="")
    progress = models.JSONField(_("latest progress"), default=dict, blank=True)
    points_owed = models.BigIntegerField(_("points earned by the rules"), default=0)
    points_allocated = models.BigIntegerField(_("points allocated"), default=0)
    points_held = models.BigIntegerField(_("points held back"), default=0)
    # The execution that last changed this participant (an unchanged participant is not written again).
    # Neither indexed nor constrained (nothing looks participants up by it; executions are only deleted with
    # their campaign, and so with its participants): an execution that rewrites a participant then changes no
    # indexed column, and PostgreSQL updates the row in place (a HOT update, no index entry written), in the
    # room the table's fillfactor (migration 0006) leaves in each page.
    last_execution = models.ForeignKey(CampaignExecution, on_delete=models.DO_NOTHING, null=True, blank=True,
                                       related_name="+", verbose_name=_("last execution"),
                                       db_constraint=False, db_index=False)
    # Fingerprint of what the progress was computed from (the rules version and the query's row): an execution
    # that finds the same fingerprint and nothing to allocate leaves the participant alone.
    progress_digest = models.CharField(_("progress fingerprint"), max_length=32, blank=True, default="")

    class Meta(BaseModel.Meta):
        verbose_name = _("campaign participant")
        verbose_name_plural = _("campaign participants")
        ordering = ("campaign_id", "participant_key")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "participant_key"], name="campaigns_participant_unique_key"),
        ]
        # A user's participations (their dashboard, SET_NULL on deletion) look up by value: a partial index
        # serves them, and the participants no user is linked to (the first execution's thousands) skip it.
        indexes = [models.Index(fields=["user"], name="campaigns_participant_user",
                                condition=models.Q(user__isnull=False))]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.participant_key}"


class ProgressSnapshot(models.Model):
    """A participant's progress as one execution computed it: the history behind progress charts."""

    id = models.BigAutoField(primary_key=True)
    execution = models.ForeignKey(CampaignExecution, on_delete=models.CASCADE, related_name="snapshots",
                                  verbose_name=_("execution"), db_constraint=False)  # see PointAllocation
    # No index of its own: campaigns_snapshot_history (participant_id, taken_at) starts with it. Not a
    # database constraint either (see PointAllocation): snapshots are history read through their participant,
    # written by the thousand (a sale in a region rewrites every participant of it), and deleted with it by
    # the ORM's CASCADE; a check per row cost ~5 µs, a tenth of such an execution's writes.
    participant = models.ForeignKey(CampaignParticipant, on_delete=models.CASCADE, related_name="snapshots",
                                    verbose_name=_("participant"), db_index=False, db_constraint=False)
    taken_at = models.DateTimeField(_("taken at"))
    eligible = models.BooleanField(_("eligible"))
    ineligible_reason = models.CharField(_("ineligible reason"), max_length=100, blank=True, default="")
    goals = models.JSONField(_("goals"), default=dict)
    points_owed = models.BigIntegerField(_("points earned by the rules"))

    class Meta:
        verbose_name = _("progress snapshot")
        verbose_name_plural = _("progress snapshots")
        ordering = ("participant_id", "taken_at", "id")
        indexes = [models.Index(fields=["participant", "taken_at"], name="campaigns_snapshot_history")]

    def __str__(self) -> str:
        return f"{self.participant_id}@{self.taken_at:%Y-%m-%d %H:%M}"


class LeaderboardPrize(BaseModel):
    """Points for the ranks ``rank_from``..``rank_to`` of a goal's final leaderboard, over the whole campaign or
    in each region; paid once, when the campaign completes (see docs/campaigns.md for ties)."""

    class Scope(models.TextChoices):
        CAMPAIGN = "campaign", _("Whole campaign")
        REGION = "region", _("Each region")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="leaderboard_prizes",
                                 verbose_name=_("campaign"))
    scope = models.CharField(_("leaderboard"), max_length=10, choices=Scope.choices, default=Scope.CAMPAIGN)
    goal_id = models.CharField(_("goal"), max_length=40, help_text=_("The individual goal whose attainment ranks."))
    rank_from = models.PositiveIntegerField(_("from rank"), default=1)
    rank_to = models.PositiveIntegerField(_("to rank"), default=1)
    points = models.PositiveBigIntegerField(_("points per winner"))
    name = models.CharField(_("name"), max_length=200, blank=True, default="")

    class Meta(BaseModel.Meta):
        verbose_name = _("leaderboard prize")
        verbose_name_plural = _("leaderboard prizes")
        ordering = ("campaign_id", "scope", "goal_id", "rank_from")
        constraints = [
            models.CheckConstraint(condition=models.Q(rank_from__gte=1), name="campaigns_prize_rank_from_gte_1"),
            models.CheckConstraint(condition=models.Q(rank_to__gte=models.F("rank_from")),
                                   name="campaigns_prize_rank_range_valid"),
            models.CheckConstraint(condition=models.Q(points__gt=0), name="campaigns_prize_points_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.scope} {self.goal_id} #{self.rank_from}-{self.rank_to}: {self.points}"


class PointAllocation(models.Model):
    """Points moved for one participant and goal by one execution; ``idempotency_key`` is the ledger's key."""

    class Kind(models.TextChoices):
        AWARD = "award", _("Award")
        CLAWBACK = "clawback", _("Claw-back")
        PRIZE = "prize", _("Leaderboard prize")

    id = models.BigAutoField(primary_key=True)
    # The execution engine writes allocations (and snapshots, and participants' last execution) by the
    # thousand, in the transaction that holds their campaign, execution and rule version; PostgreSQL would
    # check each reference of each row at commit (~3 µs each: a third of a first execution's writes). Only the
    # owning participant's key is enforced here: the campaign follows from it (participant -> campaign is
    # enforced), and executions and rule versions are never deleted but with their campaign. The ORM still
    # applies CASCADE / PROTECT; the columns stay indexed.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="allocations",
                                 verbose_name=_("campaign"), db_constraint=False)
    participant = models.ForeignKey(CampaignParticipant, on_delete=models.CASCADE, related_name="allocations",
                                    verbose_name=_("participant"))
    execution = models.ForeignKey(CampaignExecution, on_delete=models.PROTECT, related_name="allocations",
                                  verbose_name=_("execution"), db_constraint=False)
    rule_version = models.ForeignKey(CampaignRuleVersion, on_delete=models.PROTECT, related_name="allocations",
                                     verbose_name=_("rule version"), db_constraint=False)
    goal_id = models.CharField(_("goal"), max_length=40)
    level = models.BigIntegerField(_("points level reached"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.AWARD)
    points = models.BigIntegerField(_("points"), help_text=_("Negative for a claw-back."))
    # A claw-back's part the member's balance could not cover, recorded as the member's debt in the ledger.
    unrecovered = models.BigIntegerField(_("recorded as debt"), default=0)
    prize = models.ForeignKey(LeaderboardPrize, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="allocations", verbose_name=_("leaderboard prize"),
                              db_index=False)  # partial index in Meta: only prize allocations have one
    # Unique through Meta.constraints rather than unique=True, which would add a varchar_pattern_ops copy
    # for LIKE 'prefix%' lookups: nothing looks allocations up by a key prefix (the admin's search is a
    # case-insensitive contains, which no btree serves).
    idempotency_key = models.CharField(_("idempotency key"), max_length=255)
    ledger_entry_id = models.UUIDField(_("ledger entry"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("point allocation")
        verbose_name_plural = _("point allocations")
        ordering = ("participant_id", "goal_id", "id")
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="campaigns_allocation_unique_key")]
        indexes = [models.Index(fields=["prize"], name="campaigns_allocation_prize",
                                condition=models.Q(prize__isnull=False))]

    def __str__(self) -> str:
        return f"{self.idempotency_key}: {self.points}"


class CampaignRedemption(BaseModel):
    """A participant's redemption of a campaign prize: points held in the ledger when requested (pending),
    spent when the prize is delivered (completed), or given back (cancelled)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="redemptions",
                                 verbose_name=_("campaign"))
    participant = models.ForeignKey(CampaignParticipant, on_delete=models.CASCADE, related_name="redemptions",
                                    verbose_name=_("participant"))
    prize_id = models.CharField(_("prize"), max_length=40)
    prize_name = models.CharField(_("prize name"), max_length=200)
    points = models.PositiveBigIntegerField(_("points"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    loyalty_redemption_id = models.UUIDField(_("loyalty redemption"), null=True, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=255, unique=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta(BaseModel.Meta):
        verbose_name = _("campaign redemption")
        verbose_name_plural = _("campaign redemptions")

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.prize_id}"
