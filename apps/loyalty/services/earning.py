"""The earn-rule engine: what a purchase or an event earns, with limits, budget, tiers and punch cards.

``Earner`` evaluates rules for one locked member over one or more events, keeping limits, the program
budget and the member's tier progress in memory, and collects the rows to write into a ``LedgerBatch``
that is inserted with one statement per table. ``order_record`` (one order), ``orders_record`` (a
member's history) and ``members_import`` all go through it, so they earn exactly the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db.models import Sum
from django.db.models.functions import Coalesce

from apps.loyalty.models import (
    EarnAttribution,
    EarnRule,
    EarnRuleExclusion,
    EarnRuleMultiplier,
    LedgerAllocation,
    LedgerEntry,
    Member,
    OrderLine,
    Program,
    PunchCardStamp,
    Tier,
)
from apps.loyalty.selectors import member_qualifying_value
from apps.loyalty.services.ledger import add_months, credit_build
from apps.loyalty.services.tiers import tier_apply
from apps.tlp.services import tlp_outbox_enqueue_ledger_entries

Kind = LedgerEntry.Kind
Status = LedgerEntry.Status
ONE = Decimal("1")
ZERO = Decimal("0")

Weights = list[tuple[OrderLine | None, Decimal]]


def rule_in_window(rule: EarnRule, at: datetime) -> bool:
    return rule.is_active and (rule.starts_at is None or rule.starts_at <= at) and (
        rule.ends_at is None or at < rule.ends_at)


def period_start(*, period: str, at: datetime) -> datetime | None:
    """Start of the limit period containing ``at`` (UTC calendar periods); None for lifetime / no period."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == EarnRule.Period.DAY:
        return day
    if period == EarnRule.Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period == EarnRule.Period.MONTH:
        return day.replace(day=1)
    if period == EarnRule.Period.YEAR:
        return day.replace(month=1, day=1)
    return None


def period_end(*, period: str, start: datetime) -> datetime:
    if period == EarnRule.Period.DAY:
        return start + timedelta(days=1)
    if period == EarnRule.Period.WEEK:
        return start + timedelta(days=7)
    if period == EarnRule.Period.MONTH:
        return add_months(start, 1)
    return start.replace(year=start.year + 1)


def rules_load(*, program: Program, event: str) -> list[EarnRule]:
    """The program's active rules for an event, with multipliers and exclusions (window checked per use)."""
    return list(EarnRule.objects.filter(program=program, event=event, is_active=True)
                .prefetch_related("multipliers", "exclusions").select_related("punch_reward")
                .order_by("-priority", "created_at", "id"))


def _line_multiplier(line: OrderLine, multipliers: list[EarnRuleMultiplier]) -> Decimal:
    """The best label/SKU multiplier matching the line (they do not stack), 1 when none does."""
    best = None
    for multiplier in multipliers:
        if (multiplier.scope == EarnRuleMultiplier.Scope.SKU and multiplier.value == line.sku) or (
            multiplier.scope == EarnRuleMultiplier.Scope.LABEL and multiplier.value in line.labels
        ):
            best = multiplier.multiplier if best is None else max(best, multiplier.multiplier)
    return ONE if best is None else best


def rule_weights(rule: EarnRule, lines: list[OrderLine], delivery_cost: Decimal) -> Weights:
    """Each line's weight in the rule's award (excluded lines are left out); the delivery too unless
    excluded. Per-currency-unit rules weigh lines by value × label/SKU multiplier; others by value."""
    exclusions = list(rule.exclusions.all())
    skus = {item.value for item in exclusions if item.scope == EarnRuleExclusion.Scope.SKU}
    labels = {item.value for item in exclusions if item.scope == EarnRuleExclusion.Scope.LABEL}
    multipliers = list(rule.multipliers.all())
    per_unit = rule.calculation == EarnRule.Calculation.PER_CURRENCY_UNIT
    weighted: Weights = []
    for line in lines:
        if line.sku in skus or labels.intersection(line.labels):
            continue
        weighted.append((line, line.line_total * (_line_multiplier(line, multipliers) if per_unit else ONE)))
    if not rule.exclude_delivery and delivery_cost > 0:
        weighted.append((None, delivery_cost))
    return weighted


def tier_factor(rule: EarnRule, member: Member) -> Decimal:
    """The member's tier multiplier times the rule's multiplier for that tier."""
    factor = member.tier.points_multiplier if member.tier_id and member.tier else ONE
    for multiplier in rule.multipliers.all():
        if multiplier.scope == EarnRuleMultiplier.Scope.TIER and multiplier.tier_id == member.tier_id:
            factor *= multiplier.multiplier
    return factor


def rule_points(rule: EarnRule, member: Member, weights: Weights) -> int:
    factor = rule.multiplier * tier_factor(rule, member)
    if rule.calculation == EarnRule.Calculation.PER_CURRENCY_UNIT:
        base = sum((weight for _line, weight in weights), ZERO) * rule.points_per_unit
    else:
        base = Decimal(rule.fixed_points)
    return int((base * factor).to_integral_value(rounding=ROUND_FLOOR))


@dataclass
class LedgerBatch:
    """Rows to insert, in foreign-key order, and the program budget shared by every earner writing here."""

    entries: list[LedgerEntry] = field(default_factory=list)
    allocations: list[LedgerAllocation] = field(default_factory=list)
    attributions: list[EarnAttribution] = field(default_factory=list)
    stamps: list[PunchCardStamp] = field(default_factory=list)
    stamp_updates: list[PunchCardStamp] = field(default_factory=list)
    budget_left: dict[Any, int] = field(default_factory=dict)

    def write(self) -> None:
        LedgerEntry.objects.bulk_create(self.entries)
        LedgerAllocation.objects.bulk_create(self.allocations)
        tlp_outbox_enqueue_ledger_entries(entries=self.entries)
        EarnAttribution.objects.bulk_create(self.attributions)
        PunchCardStamp.objects.bulk_create(self.stamps)
        if self.stamp_updates:
            PunchCardStamp.objects.bulk_update(self.stamp_updates, ["redemption", "award", "updated_at"])
        self.entries, self.allocations, self.attributions, self.stamps, self.stamp_updates = [], [], [], [], []


class Earner:
    """Earn rules for one member whose row the caller has locked (or that is being created: ``fresh``)."""

    def __init__(self, *, member: Member, batch: LedgerBatch, now: datetime, fresh: bool = False,
                 awarded: dict[Any, list[tuple[datetime, int]]] | None = None, tiers: list[Tier] | None = None,
                 tier_value: Decimal | None = None,
                 open_stamps: dict[Any, list[PunchCardStamp]] | None = None) -> None:
        """``fresh``: a member being created (no history to read). The other arguments are state a bulk
        caller preloaded for many members at once (per limited rule: the member's awards; the program's
        tiers; the member's qualifying value; per punch-card rule: its open stamps)."""
        self.member = member
        self.program = member.program
        self.batch = batch
        self.now = now
        self.fresh = fresh
        self._limited: dict[Any, list[tuple[datetime, int]]] = dict(awarded or {})
        self._tiers: list[Tier] | None = tiers
        self._tier_value: Decimal | None = tier_value
        self.tier_fields: set[str] = set()
        self._open_stamps: dict[Any, list[PunchCardStamp]] = dict(open_stamps or {})

    # -------------------------------------------------------------------------------- limits and budget
    def _awarded(self, rule: EarnRule) -> list[tuple[datetime, int]]:
        if rule.pk not in self._limited:
            self._limited[rule.pk] = [] if self.fresh else list(
                LedgerEntry.objects.filter(member=self.member, earn_rule=rule, kind=Kind.EARN)
                .exclude(status=Status.CANCELLED).values_list("occurred_at", "amount"))
        return self._limited[rule.pk]

    def limit(self, rule: EarnRule, points: int, at: datetime) -> int:
        """Clamp to the rule's per-member limits for the period containing ``at`` (0: nothing more)."""
        if not rule.limit_period or (rule.limit_points is None and rule.limit_awards is None):
            return points
        since = period_start(period=rule.limit_period, at=at)
        until = period_end(period=rule.limit_period, start=since) if since else None
        in_period = [amount for occurred, amount in self._awarded(rule)
                     if since is None or (since <= occurred < until)]  # type: ignore[operator]
        if rule.limit_awards is not None and len(in_period) >= rule.limit_awards:
            return 0
        if rule.limit_points is not None:
            points = min(points, max(0, rule.limit_points - sum(in_period)))
        return points

    def budget(self, points: int) -> int:
        """Clamp to what is left of the program's points budget (program row locked on first use)."""
        if self.program.points_budget is None or points <= 0:
            return points
        if self.program.pk not in self.batch.budget_left:
            Program.objects.select_for_update().filter(pk=self.program.pk).first()
            issued = LedgerEntry.objects.filter(program=self.program, earn_rule__isnull=False).exclude(
                status=Status.CANCELLED).aggregate(total=Coalesce(Sum("amount"), 0))["total"]
            issued += sum(entry.amount for entry in self.batch.entries
                          if entry.program_id == self.program.pk and entry.earn_rule_id and entry.amount > 0)
            self.batch.budget_left[self.program.pk] = self.program.points_budget - issued
        points = max(0, min(points, self.batch.budget_left[self.program.pk]))
        self.batch.budget_left[self.program.pk] -= points
        return points

    # -------------------------------------------------------------------------------- credits
    def credit(self, *, points: int, source: str, at: datetime, key: str, rule: EarnRule | None = None,
               **fields: Any) -> LedgerEntry | None:
        """Credit what the rule's limits and the budget allow (an earn entry, pending for the program's
        pending period); None when that is nothing."""
        if rule is not None:
            points = self.budget(self.limit(rule, points, at))
        if points <= 0:
            return None
        entry, settle, allocation = credit_build(
            member=self.member, points=points, kind=Kind.EARN, source=source, now=at,
            pending_days=self.program.pending_days, earn_rule=rule, idempotency_key=key,
            reason=rule.name if rule is not None else "", **fields)
        self.batch.entries.append(entry)
        if settle is not None:
            self.batch.entries.append(settle)
            self.batch.allocations.append(allocation)  # type: ignore[arg-type]
        if rule is not None and rule.pk in self._limited:
            self._limited[rule.pk].append((at, points))
        return entry

    # -------------------------------------------------------------------------------- tiers
    def tiers(self) -> list[Tier]:
        if self._tiers is None:
            self._tiers = list(Tier.objects.filter(program=self.program).order_by("rank"))
        return self._tiers

    def tier_progress(self, *, spend: Decimal = ZERO, points: int = 0, at: datetime) -> None:
        """Count a purchase (its total) or earned points towards the tier, then re-decide the tier."""
        tiers = self.tiers()
        if not tiers:
            return
        if self._tier_value is None:
            self._tier_value = ZERO if self.fresh else member_qualifying_value(member=self.member, now=self.now)
        window = self.program.tier_window_days
        counts = window is None or at >= self.now - timedelta(days=window)
        if counts:
            self._tier_value += spend if self.program.tier_basis == Program.TierBasis.SPEND else Decimal(points)
        self.tier_fields.update(tier_apply(member=self.member, tiers=tiers, value=self._tier_value, now=self.now))

    # -------------------------------------------------------------------------------- punch cards
    def punch(self, *, rule: EarnRule, order: Any, at: datetime) -> None:
        """Stamp the member's card for this rule; a full card pays its reward (or fixed points)."""
        from apps.loyalty.services.redemptions import redemption_issue_free  # redemptions build on ledger

        if rule.pk not in self._open_stamps:
            self._open_stamps[rule.pk] = [] if self.fresh else list(
                PunchCardStamp.objects.filter(member=self.member, rule=rule, voided_at__isnull=True,
                                              redemption__isnull=True, award__isnull=True).order_by("created_at",
                                                                                                   "id"))
        stamp = PunchCardStamp(member=self.member, rule=rule, order=order)
        self.batch.stamps.append(stamp)
        open_stamps = self._open_stamps[rule.pk]
        open_stamps.append(stamp)
        needed = rule.punches_required or 0
        if len(open_stamps) < needed:
            return
        card = open_stamps[:needed]
        if rule.punch_reward is not None:
            redemption = redemption_issue_free(member=self.member, reward=rule.punch_reward, now=at)
            if redemption is None:
                return  # out of stock: the card stays full and pays out on a later purchase
            for item in card:
                item.redemption = redemption
        elif rule.fixed_points:
            award = self.credit(points=rule.fixed_points, source=LedgerEntry.Source.PURCHASE, at=at, rule=rule,
                                key=f"punch:{rule.pk}:{stamp.pk}", order=order, order_ref=order.external_id)
            if award is None:
                return
            for item in card:
                item.award = award
        else:
            return
        del open_stamps[:needed]
        self.batch.stamp_updates.extend(item for item in card if item not in self.batch.stamps)
