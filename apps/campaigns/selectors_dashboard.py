"""Reads for the participant's campaign dashboard (``/campaigns/``): what one signed-in user sees of the
campaigns they take part in. Every function starts from the user's own ``CampaignParticipant``; nothing here
reads another participant's data except the leaderboard, which shows a masked name and a percentage.

Decisions the pages rely on (documented here, where they are made):

- Visible campaigns: approved and active ones ("active"), completed and cancelled ones ("past"). Drafts and
  campaigns pending approval are not shown to participants (their rules may still change); their pages 404.
- Badges (computed, never stored): for each goal, 25/50/75/100 % of the target reached in an execution where
  the participant was eligible (the date is that execution's; a badge once earned stays earned even if a
  returned order lowers the attainment later); 100 % of a region goal is "Regional goal reached"; and "First
  redemption" (a redemption that was not cancelled).
- Leaderboards: ranked as the leaderboard prizes are paid (``selectors.leaderboard_rank``): eligible
  participants with an attainment above zero of the campaign's first individual goal, best first, ties sharing
  a rank (1, 2, 2, 4); campaign-wide and within the viewer's region; top 10, plus the viewer's own row when
  outside the top. Privacy: other people appear as first name + last initial ("Ana S.") with their percentage
  of the goal only, never their sales amounts, salesperson id or e-mail.
- The progress chart shows the latest ``CHART_POINTS`` snapshots; its table alternative the latest
  ``TABLE_ROWS`` of them, newest first.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.storage import default_storage
from django.db.models import DecimalField, Min, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.campaigns.models import (
    Campaign,
    CampaignParticipant,
    CampaignRedemption,
    ProgressSnapshot,
)
from apps.campaigns.selectors import (  # noqa: F401 (campaign_last_calculation: the dashboard's "last run")
    campaign_last_calculation,
    campaign_prizes,
    campaign_running_version,
    competition_ranks,
    leaderboard_prize_list,
    participant_member,
)
from apps.rules.sql_compile import REASON_REGION, REASON_TERMINATED

STAFF_ROLES = frozenset({"owner", "admin", "manager", "analyst"})
ACTIVE_STATUSES = (Campaign.Status.APPROVED, Campaign.Status.ACTIVE)
PAST_STATUSES = (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED)
VISIBLE_STATUSES = ACTIVE_STATUSES + PAST_STATUSES
BADGE_STEPS = (25, 50, 75, 100)
CHART_POINTS = 200
TABLE_ROWS = 20
LEADERBOARD_TOP = 10
THERMO_TUBE, THERMO_BOTTOM = 86, 92
SCOPE_LABELS = {
    "individual": gettext_lazy("Individual goal"),
    "team": gettext_lazy("Team goal"),
    "region": gettext_lazy("Regional goal"),
    "company": gettext_lazy("Company goal"),
}
_SCORE = DecimalField(max_digits=30, decimal_places=6)


def _decimal(value: Any) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return Decimal(0)
    return number if number.is_finite() else Decimal(0)


# ------------------------------------------------------------------------------------------ which campaigns
def _visible(queryset: QuerySet[CampaignParticipant]) -> QuerySet[CampaignParticipant]:
    return queryset.filter(campaign__status__in=VISIBLE_STATUSES)


def participant_campaign_list(*, user: Any) -> tuple[list[CampaignParticipant], list[CampaignParticipant]]:
    """The user's participations as (active, past): active ones by start date (latest first), past ones by
    end date (latest first)."""
    if not getattr(user, "is_authenticated", False):
        return [], []
    rows = list(_visible(CampaignParticipant.objects.filter(user=user)).select_related("campaign")
                .order_by("-campaign__start_date", "campaign__name", "campaign_id"))
    active = [p for p in rows if p.campaign.status in ACTIVE_STATUSES]
    past = sorted((p for p in rows if p.campaign.status in PAST_STATUSES),
                  key=lambda p: (p.campaign.end_date, p.campaign.name), reverse=True)
    return active, past


def participant_dashboard_get(*, user: Any, campaign_id: Any) -> CampaignParticipant | None:
    """The user's participation in a visible campaign; None for a campaign they do not take part in,
    another tenant's, a draft, or an id that is not a UUID (the page answers 404 to all of them alike)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if not _is_uuid(campaign_id):
        return None
    return _visible(CampaignParticipant.objects.filter(user=user, campaign_id=campaign_id)) \
        .select_related("campaign", "last_execution").first()


def campaign_live_topic_allowed(*, user: Any, campaign_id: str) -> bool:
    """Who may hear a campaign's live events: the tenant's staff (owner, admin, manager, analyst) and the
    campaign's own participants; nobody for a campaign this tenant does not have. Installed into
    ``apps.core.live`` by ``CampaignsConfig.ready``."""
    if not getattr(user, "is_authenticated", False) or not _is_uuid(campaign_id):
        return False
    if getattr(user, "role", None) in STAFF_ROLES:
        return Campaign.objects.filter(pk=campaign_id).exists()
    return CampaignParticipant.objects.filter(campaign_id=campaign_id, user=user).exists()


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# ------------------------------------------------------------------------------------------ goals
@dataclass(frozen=True)
class NextReward:
    at_percent: int
    points: int


@dataclass(frozen=True)
class GoalProgress:
    id: str
    scope: str
    label: str
    metric: str
    target: Decimal
    attained: Decimal
    percent: Decimal
    points: int  # what the rules pay for it now
    measured: bool  # False before the first execution
    next_reward: NextReward | None

    @property
    def meter(self) -> int:
        """0..100 for the thermometer (attainment above the target fills it)."""
        return int(max(Decimal(0), min(Decimal(100), self.percent)))

    @property
    def is_money(self) -> bool:
        return self.metric == "line_amount"

    # The thermometer drawing (templates/campaigns/participant/_thermometer.html): a tube from y=6 to y=92
    # in a 0 0 48 124 viewBox. SVG geometry attributes, not inline styles (the CSP forbids those).
    @property
    def fill_height(self) -> str:
        return f"{THERMO_TUBE * self.meter / 100:.1f}"

    @property
    def fill_y(self) -> str:
        return f"{THERMO_BOTTOM - THERMO_TUBE * self.meter / 100:.1f}"


def _document_goals(campaign: Campaign) -> list[dict[str, Any]]:
    version = campaign_running_version(campaign=campaign)
    return list((version.document.get("goals") or []) if version else [])


def _label(goal: dict[str, Any], goals: list[dict[str, Any]]) -> str:
    scope = goal.get("scope", "individual")
    label = str(SCOPE_LABELS.get(scope, goal.get("id", "")))
    if sum(1 for other in goals if other.get("scope") == scope) > 1:
        label = f"{label} ({goal.get('id')})"
    return label


def participant_goals(*, participant: CampaignParticipant) -> list[GoalProgress]:
    """Each goal of the running rules with the participant's latest progress (zero before any execution) and
    the next reward threshold not reached yet."""
    document_goals = _document_goals(participant.campaign)
    latest = (participant.progress or {}).get("goals") or {}
    result = []
    for goal in document_goals:
        progress = latest.get(goal["id"])
        percent = _decimal(progress.get("percent")) if progress else Decimal(0)
        rewards = sorted(goal.get("rewards") or [], key=lambda r: int(r.get("at_percent", 0)))
        upcoming = next((r for r in rewards if Decimal(int(r.get("at_percent", 0))) > percent
                         and int(r.get("points", 0)) > 0), None)
        result.append(GoalProgress(
            id=goal["id"], scope=goal.get("scope", "individual"), label=_label(goal, document_goals),
            metric=goal.get("metric", "line_amount"), target=_decimal(goal.get("target")),
            attained=_decimal(progress.get("attained")) if progress else Decimal(0), percent=percent,
            points=int(progress.get("points") or 0) if progress else 0, measured=progress is not None,
            next_reward=NextReward(int(upcoming["at_percent"]), int(upcoming["points"])) if upcoming else None,
        ))
    return result


def ineligibility_reason(*, participant: CampaignParticipant) -> str | None:
    """Why the participant earns nothing, in words; None when eligible (or not computed yet)."""
    if participant.eligible or participant.last_execution_id is None:
        return None
    reasons = {
        REASON_TERMINATED: _("The rules require salespeople to stay employed until the campaign's last "
                                   "day, and your employment ends before it."),
        REASON_REGION: _("Your region (%(region)s) does not take part in this campaign.")
        % {"region": participant.region or _("none")},
    }
    return reasons.get(participant.ineligible_reason) or _(
        "The campaign's eligibility rules exclude you (%(reason)s).") % {
        "reason": participant.ineligible_reason or _("no reason given")}


# ------------------------------------------------------------------------------------------ points
@dataclass(frozen=True)
class Balance:
    available: int
    pending: int
    lifetime: int
    held_back: int
    # Points clawed back after returned sales that the balance could not cover: future points repay it first.
    debt: int = 0


def participant_balance(*, participant: CampaignParticipant) -> Balance:
    member = participant_member(participant=participant)
    if member is None:
        return Balance(available=0, pending=0, lifetime=0, held_back=participant.points_held)
    return Balance(available=member.available, pending=member.pending, lifetime=member.lifetime,
                   held_back=participant.points_held, debt=member.debt)


def participant_transactions(*, participant: CampaignParticipant) -> QuerySet[Any] | list[Any]:
    """The participant's ledger entries in this campaign's program, newest first (empty before enrolment)."""
    from apps.loyalty.selectors import ledger_history

    member = participant_member(participant=participant)
    return ledger_history(member=member) if member is not None else []


# ------------------------------------------------------------------------------------------ offers
@dataclass(frozen=True)
class Offer:
    id: str
    name: str
    points_cost: int
    affordable: bool
    missing: int


def campaign_prize_list(*, campaign: Campaign) -> list[dict[str, Any]]:
    """The running rules' prizes that cost points (the ones a participant can redeem)."""
    return [prize for prize in campaign_prizes(campaign=campaign) if int(prize.get("points_cost") or 0) > 0]


def participant_offers(*, participant: CampaignParticipant, available: int) -> list[Offer]:
    """The running rules' prizes, cheapest first, each saying whether the available points cover it."""
    prizes = sorted(campaign_prize_list(campaign=participant.campaign),
                    key=lambda p: (int(p["points_cost"]), str(p["name"])))
    return [Offer(id=str(p["id"]), name=str(p["name"]), points_cost=int(p["points_cost"]),
                  affordable=available >= int(p["points_cost"]),
                  missing=max(0, int(p["points_cost"]) - available)) for p in prizes]


def participant_prize_get(*, participant: CampaignParticipant, prize_id: str) -> dict[str, Any] | None:
    return next((p for p in campaign_prize_list(campaign=participant.campaign) if str(p["id"]) == prize_id), None)


@dataclass(frozen=True)
class GraphicSource:
    """An offer's picture: ``etag`` is known without drawing it; ``load()`` returns the PNG."""

    etag: str
    load: Callable[[], bytes]


def offer_graphic_source(*, participant: CampaignParticipant, prize_id: str,
                         points_label: str) -> GraphicSource | None:
    """The graphic TLP provisioning generated for the offer (``apps.tlp``: stored with its redemption offer),
    or, for a campaign not provisioned in TLP, the same kind of graphic drawn now with the tenant's branding.
    None for a prize the running rules do not have."""
    prize = participant_prize_get(participant=participant, prize_id=prize_id)
    if prize is None:
        return None
    from apps.tlp.models import TLPEntity
    from apps.tlp.selectors import tlp_entity_list

    local_ref = f"campaign:{participant.campaign_id}:prize:{prize['id']}"
    entity = next((e for e in tlp_entity_list(kind=TLPEntity.Kind.REDEMPTION_OFFER, local_ref_prefix=local_ref)
                   if e.local_ref == local_ref), None)
    path = (entity.data or {}).get("image_path") if entity is not None else None
    if path and default_storage.exists(path):

        def stored() -> bytes:
            with default_storage.open(path, "rb") as handle:
                return handle.read()

        return GraphicSource(etag=hashlib.sha256(path.encode()).hexdigest()[:32], load=stored)

    from apps.branding.selectors import branding_get, branding_logo
    from apps.tlp.graphics import offer_graphic_render

    branding = branding_get()
    primary = branding.primary_color if branding else ""
    accent = branding.accent_color if branding else ""
    logo_sha = branding.logo_sha256 if branding else ""
    name, points = str(prize["name"]), int(prize["points_cost"])
    etag = hashlib.sha256("\n".join([name, str(points), points_label, primary, accent, logo_sha]).encode())

    def drawn() -> bytes:
        logo = branding_logo() if logo_sha else None
        return offer_graphic_render(prize_name=name, points=points, points_label=points_label,
                                    primary_color=primary, accent_color=accent,
                                    logo=logo.data if logo is not None else None)

    return GraphicSource(etag=etag.hexdigest()[:32], load=drawn)


# ------------------------------------------------------------------------------------------ history chart
@dataclass(frozen=True)
class ProgressRow:
    taken_at: datetime
    percents: list[Decimal]  # in the order of the chart's goals
    points: int
    eligible: bool


@dataclass(frozen=True)
class ProgressChart:
    goals: list[GoalProgress]
    rows: list[ProgressRow]  # oldest first

    def chart_data(self, *, date_format: Callable[[datetime], str]) -> dict[str, Any]:
        """What static/js/campaign.js draws: labels and one series (percent of target) per goal."""
        return {
            "labels": [date_format(row.taken_at) for row in self.rows],
            "series": [{"id": goal.id, "label": goal.label,
                        "values": [float(row.percents[index]) for row in self.rows]}
                       for index, goal in enumerate(self.goals)],
        }

    @property
    def table_rows(self) -> list[ProgressRow]:
        return list(reversed(self.rows[-TABLE_ROWS:]))


def participant_progress_chart(*, participant: CampaignParticipant, goals: list[GoalProgress],
                               limit: int = CHART_POINTS) -> ProgressChart:
    """The participant's progress over time from the execution snapshots: the latest ``limit`` of them."""
    snapshots = list(ProgressSnapshot.objects.filter(participant=participant)
                     .order_by("-taken_at", "-id").values("taken_at", "goals", "points_owed", "eligible")[:limit])
    rows = [ProgressRow(taken_at=s["taken_at"],
                        percents=[_decimal(((s["goals"] or {}).get(goal.id) or {}).get("percent")) for goal in goals],
                        points=int(s["points_owed"]), eligible=bool(s["eligible"]))
            for s in reversed(snapshots)]
    return ProgressChart(goals=goals, rows=rows)


# ------------------------------------------------------------------------------------------ badges
@dataclass(frozen=True)
class Badge:
    key: str
    title: str
    description: str
    earned_at: datetime | None

    @property
    def earned(self) -> bool:
        return self.earned_at is not None


def _percent_of(goal_id: str) -> Cast:
    return Cast(KeyTextTransform("percent", KeyTransform(goal_id, "goals")), _SCORE)


def participant_badges(*, participant: CampaignParticipant, goals: list[GoalProgress]) -> list[Badge]:
    """The badges of the module docstring, earned or not (one query for the goals' steps, one for the
    redemption)."""
    firsts: dict[str, Any] = {}
    if goals:
        aggregates = {}
        for index in range(len(goals)):
            for step in BADGE_STEPS:
                aggregates[f"g{index}_{step}"] = Min("taken_at", filter=Q(**{f"p{index}__gte": step}))
        firsts = (ProgressSnapshot.objects.filter(participant=participant, eligible=True)
                  .annotate(**{f"p{index}": _percent_of(goal.id) for index, goal in enumerate(goals)})
                  .aggregate(**aggregates))
    badges = []
    for index, goal in enumerate(goals):
        for step in BADGE_STEPS:
            if step == 100 and goal.scope == "region":
                title = _("Regional goal reached")
            elif step == 100:
                title = _("%(goal)s reached") % {"goal": goal.label}
            else:
                title = _("%(percent)d%% of the %(goal)s") % {"percent": step, "goal": goal.label.lower()}
            badges.append(Badge(key=f"{goal.id}-{step}", title=title,
                                description=_("%(percent)d%% of the target of the %(goal)s.") % {
                                    "percent": step, "goal": goal.label.lower()},
                                earned_at=firsts.get(f"g{index}_{step}")))
    first_redemption = (CampaignRedemption.objects.filter(participant=participant)
                        .exclude(status=CampaignRedemption.Status.CANCELLED).aggregate(first=Min("created_at")))
    badges.append(Badge(key="first-redemption", title=_("First redemption"),
                        description=_("You redeemed a prize with your points."),
                        earned_at=first_redemption["first"]))
    return badges


# ------------------------------------------------------------------------------------------ leaderboards
@dataclass(frozen=True)
class LeaderRow:
    rank: int
    name: str
    percent: Decimal
    is_me: bool


@dataclass(frozen=True)
class BoardPrize:
    """A top-N prize of one leaderboard, and whether the viewer's current rank is in its band (it is paid on
    the final ranking, when the campaign completes)."""

    rank_from: int
    rank_to: int
    points: int
    name: str
    in_line: bool


@dataclass
class Leaderboard:
    key: str  # "campaign" or "region"
    title: str
    goal_label: str
    rows: list[LeaderRow] = field(default_factory=list)
    me: LeaderRow | None = None  # the viewer's row when outside the top
    size: int = 0
    prizes: list[BoardPrize] = field(default_factory=list)

    @property
    def includes_me(self) -> bool:
        return self.me is not None or any(row.is_me for row in self.rows)

    @property
    def my_rank(self) -> int | None:
        mine = self.me or next((row for row in self.rows if row.is_me), None)
        return mine.rank if mine is not None else None


def masked_name(name: str) -> str:
    """First name and last initial ("Ana Souza" → "Ana S."); "A participant" when there is no name."""
    parts = (name or "").split()
    if not parts:
        return _("A participant")
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


def _ranked(participant: CampaignParticipant, goal: GoalProgress, queryset: QuerySet[CampaignParticipant],
            top: int) -> tuple[list[LeaderRow], LeaderRow | None, int]:
    attained = Cast(KeyTextTransform("attained", KeyTransform(goal.id, KeyTransform("goals", "progress"))), _SCORE)
    percent = Cast(KeyTextTransform("percent", KeyTransform(goal.id, KeyTransform("goals", "progress"))), _SCORE)
    ranked = (queryset.filter(eligible=True, last_execution__isnull=False)
              .annotate(score=Coalesce(attained, Value(Decimal(0)), output_field=_SCORE),
                        pct=Coalesce(percent, Value(Decimal(0)), output_field=_SCORE))
              .filter(score__gt=0))
    size = ranked.count()
    top_rows = list(ranked.order_by("-score", "participant_key", "id").values("pk", "name", "score", "pct")[:top])
    # Competition ranking, as the leaderboard prizes are paid: a tie shares the rank, the next one is skipped.
    ranks = competition_ranks([row["score"] for row in top_rows])
    rows = [LeaderRow(rank=rank, name=masked_name(row["name"]), percent=row["pct"], is_me=row["pk"] == participant.pk)
            for rank, row in zip(ranks, top_rows, strict=True)]
    me = None
    if not any(row.is_me for row in rows):
        mine = ranked.filter(pk=participant.pk).values("score", "pct").first()
        if mine is not None:
            me = LeaderRow(rank=ranked.filter(score__gt=mine["score"]).count() + 1,
                           name=masked_name(participant.name), percent=mine["pct"], is_me=True)
    return rows, me, size


def participant_leaderboards(*, participant: CampaignParticipant, goals: list[GoalProgress],
                             top: int = LEADERBOARD_TOP) -> list[Leaderboard]:
    """The campaign-wide and the viewer's region's leaderboard on the first individual goal (none when the
    rules have no individual goal), each with its top-N prizes on that goal."""
    goal = next((g for g in goals if g.scope == "individual"), None)
    if goal is None:
        return []
    everyone = CampaignParticipant.objects.filter(campaign_id=participant.campaign_id)
    prizes = [prize for prize in leaderboard_prize_list(campaign=participant.campaign) if prize.goal_id == goal.id]
    boards = []
    rows, me, size = _ranked(participant, goal, everyone, top)
    boards.append(Leaderboard(key="campaign", title=_("Whole campaign"), goal_label=goal.label, rows=rows, me=me,
                              size=size))
    if participant.region:
        rows, me, size = _ranked(participant, goal, everyone.filter(region=participant.region), top)
        boards.append(Leaderboard(key="region", title=_("Region %(region)s") % {"region": participant.region},
                                  goal_label=goal.label, rows=rows, me=me, size=size))
    for board in boards:
        rank = board.my_rank if participant.eligible else None
        board.prizes = [
            BoardPrize(rank_from=prize.rank_from, rank_to=prize.rank_to, points=prize.points, name=prize.name,
                       in_line=rank is not None and prize.rank_from <= rank <= prize.rank_to)
            for prize in prizes if prize.scope == board.key]
    return boards
