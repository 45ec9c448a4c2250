"""Loyalty reads: lookups, listings and the ledger's consistency check."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.compiled_query import CompiledQuery
from apps.core.errors import ApplicationError, NotFoundError
from apps.core.local_cache import LocalCache, model_copy
from apps.loyalty.models import (
    EarnRule,
    LedgerAllocation,
    LedgerEntry,
    LoyaltyNotification,
    Member,
    Order,
    Program,
    Redemption,
    Reward,
    Tier,
)

Status = LedgerEntry.Status
Kind = LedgerEntry.Kind
ZERO = Decimal("0")
_NOT_CANCELLED = ~Q(drawn_by__spend__status=Status.CANCELLED)


# ---------------------------------------------------------------------------------------------- lookups

# Every balance read passes here: compiled once (apps/core/compiled_query.py). No ORDER BY: (program, customer
# id) is unique.
_member_by_customer = CompiledQuery(lambda program_id, customer_id: Member.objects.filter(
    program_id=program_id, customer_id=customer_id).select_related("tier").order_by()[:1])


def member_get(*, program: Program, customer_id: str) -> Member | None:
    # The program is in hand: attach it instead of joining its table again (compiling and decoding the wide
    # join was a large share of a balance read's CPU).
    member = _member_by_customer.first(program_id=program.pk, customer_id=customer_id)
    if member is not None:
        member.program = program
    return member


def member_get_by_referral_code(*, code: str) -> Member | None:
    if not code:
        return None
    return Member.objects.filter(referral_code=code.strip().upper()).select_related("program").first()


def program_resolve(*, program_id: uuid.UUID | str | None) -> Program:
    """The program named, or the tenant's only program. Refuses (400) to guess among several."""
    if program_id:
        try:
            return Program.objects.get(pk=program_id)
        except (Program.DoesNotExist, ValueError) as exc:
            raise NotFoundError(_("Program not found."), code="program_not_found",
                                fields={"program": [_("Not found.")]}) from exc
    programs = list(Program.objects.order_by("created_at")[:2])
    if len(programs) == 1:
        return programs[0]
    if not programs:
        raise NotFoundError(_("There is no loyalty program yet."), code="program_not_found")
    raise ApplicationError(_("This tenant has several programs: say which one with the program parameter."),
                           code="program_required", fields={"program": [_("Required when there are several.")]})


# Which program a customer id is looked up in: every points request resolves it, and programs change rarely.
# (schema, program id or None for "the only one") → the Program. Writes never trust it: the ledger services
# read the program again with the member's row lock. Saving or deleting a program clears this process's
# copies at once; other processes follow within LOYALTY_PROGRAM_CACHE_SECONDS.
resolved_programs = LocalCache("loyalty-programs", ttl_setting="LOYALTY_PROGRAM_CACHE_SECONDS", default_ttl=5)
# (schema, program id) → its tiers in rank order, for balance reads (same TTL and invalidation).
program_tiers_cache = LocalCache("loyalty-tiers", ttl_setting="LOYALTY_PROGRAM_CACHE_SECONDS", default_ttl=5)


def _programs_changed(sender: type, instance: Program, **_kwargs: object) -> None:
    resolved_programs.clear()  # its id, and "the only program" (which a new or deleted program changes)
    program_tiers_cache.discard(instance.pk)


def _tiers_changed(sender: type, instance: Tier, **_kwargs: object) -> None:
    program_tiers_cache.discard(instance.program_id)


post_save.connect(_programs_changed, sender=Program, dispatch_uid="loyalty_programs_saved")
post_delete.connect(_programs_changed, sender=Program, dispatch_uid="loyalty_programs_deleted")
post_save.connect(_tiers_changed, sender=Tier, dispatch_uid="loyalty_tiers_saved")
post_delete.connect(_tiers_changed, sender=Tier, dispatch_uid="loyalty_tiers_deleted")


def program_resolve_cached(*, program_id: uuid.UUID | str | None) -> Program:
    """``program_resolve`` through the per-process cache (a copy: callers may set attributes on it). For
    reads and for finding a member: anything that moves points reads the program again under its lock."""
    key = str(program_id) if program_id else None
    return model_copy(resolved_programs.get_or_load(key, lambda: program_resolve(program_id=program_id)))


def program_tiers(*, program_id: uuid.UUID) -> list[Tier]:
    """The program's tiers in rank order, through the per-process cache (for display, never for writes)."""
    return program_tiers_cache.get_or_load(
        program_id, lambda: list(Tier.objects.filter(program_id=program_id).order_by("rank")))


def member_resolve(*, customer_id: str, program_id: uuid.UUID | str | None = None) -> Member:
    """A member by the tenant's customer id, within the named (or only) program; 404 when not enrolled."""
    program = program_resolve_cached(program_id=program_id)
    member = member_get(program=program, customer_id=customer_id)
    if member is None:
        raise NotFoundError(_("No member with this customer id in the program."), code="member_not_found",
                            fields={"customer_id": [_("Not enrolled.")]})
    return member


# ---------------------------------------------------------------------------------------------- listings

def program_list() -> QuerySet[Program]:
    return Program.objects.annotate(member_count=Count("members", distinct=True)).order_by("-created_at", "id")


def tier_list() -> QuerySet[Tier]:
    return Tier.objects.select_related("program").order_by("program_id", "rank", "id")


def earn_rule_list() -> QuerySet[EarnRule]:
    return EarnRule.objects.select_related("program", "punch_reward").prefetch_related(
        "multipliers", "exclusions").order_by("program_id", "-priority", "created_at", "id")


def reward_list() -> QuerySet[Reward]:
    return Reward.objects.select_related("program").prefetch_related("excluded_products").annotate(
        redemptions_total=Count("redemptions", filter=~Q(redemptions__status=Redemption.Status.CANCELLED)),
        redemptions_pending=Count("redemptions", filter=Q(redemptions__status=Redemption.Status.RESERVED)),
        redemptions_completed=Count("redemptions", filter=Q(redemptions__status=Redemption.Status.COMPLETED)),
    ).order_by("points_cost", "name", "id")


def member_list() -> QuerySet[Member]:
    return Member.objects.select_related("program", "tier").order_by("-enrolled_at", "id")


def ledger_history(*, member: Member) -> QuerySet[LedgerEntry]:
    """A member's entries, newest first, with what is left of each credit (``remaining``)."""
    return (
        LedgerEntry.objects.filter(member=member)
        .annotate(used=Coalesce(Sum("drawn_by__points", filter=_NOT_CANCELLED), 0))
        .annotate(remaining=F("amount") - F("used"))
        .select_related("reward")
        .order_by("-created_at", "-id")
    )


def redemption_list() -> QuerySet[Redemption]:
    return Redemption.objects.select_related("member", "reward", "program").order_by("-created_at", "id")


def order_list() -> QuerySet[Order]:
    return Order.objects.select_related("member", "program").prefetch_related("lines", "refunds").annotate(
        points_earned=Coalesce(Sum("ledger__amount", filter=Q(ledger__kind=LedgerEntry.Kind.EARN)), 0),
    ).order_by("-placed_at", "id")


def notification_list() -> QuerySet[LoyaltyNotification]:
    return LoyaltyNotification.objects.select_related("member").order_by("-created_at", "id")


# ---------------------------------------------------------------------------------------------- balances

def member_qualifying_value(*, member: Member, now: datetime | None = None) -> Decimal:
    """What the member's tier is measured on: net spend, or net points earned, over the program's window."""
    return members_qualifying_values(program=member.program, member_ids=[member.pk],
                                     now=now or timezone.now())[member.pk]


def members_by_customer(*, program: Program, customer_ids: Iterable[str]) -> dict[str, Member]:
    """The program's members for these customer ids (one query), by customer id. Refuses (404, naming the first
    50) when any of them is not enrolled."""
    wanted = set(customer_ids)
    members = {member.customer_id: member for member in
               Member.objects.filter(program=program, customer_id__in=wanted).select_related("program")}
    missing = sorted(wanted - set(members))
    if missing:
        raise NotFoundError(_("Some customers are not enrolled in the program."), code="member_not_found",
                            fields={"customer_id": missing[:50]})
    return members


def members_qualifying_values(*, program: Program, member_ids: list, now: datetime) -> dict:
    """``member_qualifying_value`` for many members of a program at once (two queries at most)."""
    since = now - timedelta(days=program.tier_window_days) if program.tier_window_days else None
    values = dict.fromkeys(member_ids, ZERO)
    if program.tier_basis == Program.TierBasis.SPEND:
        orders = Order.objects.filter(member_id__in=member_ids)
        if since:
            orders = orders.filter(placed_at__gte=since)
        net = ExpressionWrapper(F("total") - F("refunded_total"), output_field=DecimalField(max_digits=14,
                                                                                              decimal_places=2))
        for row in orders.values("member_id").annotate(value=Sum(net)):
            values[row["member_id"]] = row["value"]
        return values
    earned = LedgerEntry.objects.filter(member_id__in=member_ids, kind=Kind.EARN).exclude(status=Status.CANCELLED)
    reversed_ = LedgerEntry.objects.filter(member_id__in=member_ids, kind=Kind.REVERSE,
                                           reverses__kind=Kind.EARN).exclude(reverses__status=Status.CANCELLED)
    if since:
        earned = earned.filter(occurred_at__gte=since)
        reversed_ = reversed_.filter(reverses__occurred_at__gte=since)
    for row in earned.values("member_id").annotate(value=Sum("amount")):
        values[row["member_id"]] += Decimal(row["value"])
    lost = Sum(-F("amount") + F("debt_change") + F("waived"))
    for row in reversed_.values("member_id").annotate(value=lost):
        values[row["member_id"]] -= Decimal(row["value"])
    return values


@dataclass(frozen=True)
class MemberBalance:
    member: Member
    available: int
    pending: int
    lifetime: int
    debt: int
    tier: Tier | None
    next_tier: Tier | None
    qualifying_value: Decimal
    to_next_tier: Decimal | None
    expiring_points: int
    expiring_at: datetime | None
    value: Decimal


def member_balance(*, member: Member, now: datetime | None = None) -> MemberBalance:
    """Balances, tier progress, and the points expiring within the program's warning window."""
    now = now or timezone.now()
    program = member.program
    tiers = program_tiers(program_id=program.pk)
    current = next((tier for tier in tiers if tier.pk == member.tier_id), None)
    value = member_qualifying_value(member=member, now=now) if tiers else Decimal("0")
    next_tier = next((tier for tier in tiers if tier.rank > (current.rank if current else -1)), None)
    expiring, first_expiry = 0, None
    if program.expiration_enabled:
        horizon = now + timedelta(days=program.expiry_warning_days)
        soon = (
            LedgerEntry.objects.filter(member=member, status=Status.ACTIVE, amount__gt=0, expires_at__gt=now,
                                       expires_at__lte=horizon)
            .annotate(used=Coalesce(Sum("drawn_by__points", filter=_NOT_CANCELLED), 0))
            .annotate(remaining=F("amount") - F("used"))
            .filter(remaining__gt=0)
            .aggregate(points=Coalesce(Sum("remaining"), 0), first=Min("expires_at"))
        )
        expiring, first_expiry = soon["points"], soon["first"]
    return MemberBalance(
        member=member, available=member.available, pending=member.pending, lifetime=member.lifetime,
        debt=member.debt, tier=current, next_tier=next_tier, qualifying_value=value,
        to_next_tier=max(Decimal("0"), next_tier.threshold - value) if next_tier else None,
        expiring_points=expiring, expiring_at=first_expiry,
        value=(program.points_value_per_100 * member.available / 100).quantize(Decimal("0.01")),
    )


def member_ledger_verify(*, member: Member) -> list[str]:
    """Every way the member's balances and ledger could disagree; an empty list means consistent."""
    problems: list[str] = []
    member = Member.objects.get(pk=member.pk)
    credits = (
        LedgerEntry.objects.filter(member=member, amount__gt=0)
        .annotate(used=Coalesce(Sum("drawn_by__points", filter=_NOT_CANCELLED), 0))
        .annotate(remaining=F("amount") - F("used"))
    )
    by_status: dict[str, int] = {}
    for credit in credits:
        if credit.remaining < 0:
            problems.append(f"credit {credit.pk} is over-drawn ({credit.remaining})")
        by_status[credit.status] = by_status.get(credit.status, 0) + credit.remaining
    if by_status.get(Status.ACTIVE, 0) != member.available:
        problems.append(f"available {member.available} != active credits {by_status.get(Status.ACTIVE, 0)}")
    if by_status.get(Status.PENDING, 0) != member.pending:
        problems.append(f"pending {member.pending} != pending credits {by_status.get(Status.PENDING, 0)}")
    entries = LedgerEntry.objects.filter(member=member)
    totals = entries.aggregate(lifetime=Coalesce(Sum("amount", filter=Q(amount__gt=0)), 0),
                               debt=Coalesce(Sum("debt_change"), 0))
    if totals["lifetime"] != member.lifetime:
        problems.append(f"lifetime {member.lifetime} != credits written {totals['lifetime']}")
    if totals["debt"] != member.debt:
        problems.append(f"debt {member.debt} != sum of debt changes {totals['debt']}")
    if member.available < 0 or member.pending < 0 or member.debt < 0:
        problems.append("a balance is negative")
    debits = entries.filter(amount__lt=0).annotate(allocated=Coalesce(Sum("allocations__points"), 0))
    for debit in debits:
        if debit.allocated != -debit.amount:
            problems.append(f"debit {debit.pk} amount {debit.amount} != allocations {debit.allocated}")
    foreign = LedgerAllocation.objects.filter(spend__member=member).exclude(award__member=member)
    if foreign.exists():
        problems.append("a debit drew on another member's credit")
    return problems
