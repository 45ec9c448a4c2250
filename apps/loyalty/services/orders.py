"""Purchases and refunds: earn rules run on recorded orders; a refund reverses exactly what it earned."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.errors import ApplicationError, ConflictError, UnprocessableError
from apps.loyalty.models import (
    EarnAttribution,
    EarnRule,
    LedgerEntry,
    Member,
    Order,
    OrderLine,
    OrderRefund,
    OrderRefundLine,
    Program,
    PunchCardStamp,
    Tier,
)
from apps.loyalty.selectors import members_qualifying_values
from apps.loyalty.services.earning import (
    Earner,
    LedgerBatch,
    rule_in_window,
    rule_points,
    rule_weights,
    rules_load,
)
from apps.loyalty.services.ledger import (
    _require_moving,
    _save_balances,
    _sync,
    member_lock,
    reversal_requested_so_far,
    reversal_write,
)
from apps.loyalty.services.tiers import tier_recalculate

Kind = LedgerEntry.Kind
Status = LedgerEntry.Status
Source = LedgerEntry.Source
ZERO = Decimal("0")
CENT = Decimal("0.01")

EVENT_SOURCES = {
    EarnRule.Event.SIGNUP: Source.SIGNUP, EarnRule.Event.BIRTHDAY: Source.BIRTHDAY,
    EarnRule.Event.REVIEW: Source.REVIEW, EarnRule.Event.SOCIAL_SHARE: Source.SOCIAL_SHARE,
    EarnRule.Event.REFERRAL: Source.REFERRAL, EarnRule.Event.CUSTOM: Source.CUSTOM,
}
BALANCE_FIELDS = ["available", "pending", "lifetime", "debt", "last_activity_at", "purchase_count", "updated_at"]


@dataclass(frozen=True)
class OrderLineInput:
    sku: str
    quantity: int
    unit_price: Decimal
    name: str = ""
    labels: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class OrderInput:
    external_id: str
    lines: Sequence[OrderLineInput]
    delivery_cost: Decimal = ZERO
    currency: str | None = None
    placed_at: datetime | None = None


@dataclass(frozen=True)
class RefundLineInput:
    quantity: int
    line_id: uuid.UUID | None = None
    sku: str | None = None


# ---------------------------------------------------------------------------------------------- orders

def _validated(item: OrderInput, program: Program) -> tuple[str, Decimal, Decimal]:
    """(currency, subtotal, total) of a valid order; refuses bad input (400) or another currency (422)."""
    if not item.external_id or not item.external_id.strip():
        raise ApplicationError(_("An order id is required."), code="invalid", fields={"order_id": [_("Required.")]})
    if not item.lines:
        raise ApplicationError(_("An order needs at least one line."), code="invalid",
                               fields={"lines": [_("At least one line is required.")]})
    for index, line in enumerate(item.lines):
        if line.quantity < 1 or line.unit_price < 0:
            raise ApplicationError(_("Order lines need a positive quantity and a price of zero or more."),
                                   code="invalid", fields={"lines": {str(index): [_("Invalid quantity or price.")]}})
    if item.delivery_cost < 0:
        raise ApplicationError(_("The delivery cost cannot be negative."), code="invalid",
                               fields={"delivery_cost": [_("Must be zero or more.")]})
    currency = (item.currency or program.currency).upper()
    if currency != program.currency:
        raise UnprocessableError(_("The order's currency is not the program's currency."), code="currency_mismatch",
                                 fields={"currency": [_("Expected %(currency)s.") % {"currency": program.currency}]})
    subtotal = sum((line.unit_price * line.quantity for line in item.lines), ZERO).quantize(CENT)
    return currency, subtotal, (subtotal + item.delivery_cost).quantize(CENT)


def _order_matches(order: Order, *, member: Member, total: Decimal) -> Order:
    if order.member_id != member.pk or order.total != total:
        raise ConflictError(_("An order with this id was already recorded with different details."),
                            code="order_conflict", fields={"order_id": [_("Already recorded.")]})
    return order


def order_record(
    *,
    member: Member,
    external_id: str,
    lines: Sequence[OrderLineInput],
    delivery_cost: Decimal = ZERO,
    currency: str | None = None,
    placed_at: datetime | None = None,
    actor: Any = None,
) -> Order:
    """Record a completed purchase and run the program's purchase earn rules on it: points per currency unit
    or fixed, multipliers (global, label/SKU, tier), exclusions (SKUs, labels, delivery), minimum order
    value, per-member limits per period, program budget, active window, punch cards. Idempotent on
    (program, order id): a replay returns the recorded order; the same id with other details is refused
    (409). After the member's first purchase, calls ``apps.referrals.services.referral_on_first_purchase``
    when that app is installed."""
    item = OrderInput(external_id=external_id, lines=lines, delivery_cost=delivery_cost, currency=currency,
                      placed_at=placed_at)
    return orders_record(member=member, orders=[item], actor=actor)[0]


def orders_record(*, member: Member, orders: Sequence[OrderInput], actor: Any = None) -> list[Order]:
    """Record several purchases of one member, in the given order, exactly as that many ``order_record``
    calls would (same rules, limits, tier progress, idempotency), with the member locked once and the rows
    inserted in bulk. Returns one order per input (replays included)."""
    return orders_import(program=member.program, orders=[(member, list(orders))], actor=actor)[0]


@transaction.atomic
def orders_import(*, program: Program, orders: Sequence[tuple[Member, Sequence[OrderInput]]], actor: Any = None,
                  notify_referrals: bool = True) -> list[list[Order]]:
    """Record the purchases of many members of a program: for each member, exactly what ``order_record``
    would do order after order, but with all members locked at once (in id order), the state the rules
    need read with one query per kind, and one insert per table. ``notify_referrals=False`` skips the
    first-purchase referral hook (an import of history that predates the referral program).
    Returns, per member, one order per input (replays included)."""
    checked = []
    for member, items in orders:
        if member.program_id != program.pk:
            raise ApplicationError(_("The member belongs to another program."), code="invalid",
                                   fields={"member": [str(member.pk)]})
        checked.append((member, [(item, *_validated(item, program)) for item in items]))
    member_ids = [member.pk for member, _items in checked]
    locked = {row.pk: row for row in Member.objects.select_for_update(of=("self",)).select_related(
        "program", "tier").filter(pk__in=member_ids).order_by("pk")}
    external_ids = [item.external_id for _member, items in checked for item, *_rest in items]
    existing = {order.external_id: order for order in
                Order.objects.filter(program=program, external_id__in=external_ids)}
    now = timezone.now()
    fresh_ids = {member.pk for member, items in checked
                 if any(item.external_id not in existing for item, *_rest in items)}
    state = _EarnPreload(program=program, member_ids=sorted(fresh_ids), now=now) if fresh_ids else None
    batch = LedgerBatch()
    results: list[list[Order]] = []
    new_orders: list[Order] = []
    new_lines: list[OrderLine] = []
    firsts: list[tuple[Member, Order]] = []
    touched: dict[Any, tuple[Member, set[str]]] = {}
    for member, items in checked:
        row = locked[member.pk]
        earner = state.earner(member=row, batch=batch) if state and row.pk in fresh_ids else None
        member_orders: list[Order] = []
        created = 0
        for item, currency, subtotal, total in items:
            if item.external_id in existing:
                member_orders.append(_order_matches(existing[item.external_id], member=row, total=total))
                continue
            assert earner is not None and state is not None
            placed_at = item.placed_at or now
            order = Order(program=program, member=row, external_id=item.external_id, currency=currency,
                          subtotal=subtotal, delivery_cost=item.delivery_cost, total=total, placed_at=placed_at)
            lines = [OrderLine(order=order, sku=line.sku, name=line.name, labels=list(line.labels),
                               quantity=line.quantity, unit_price=line.unit_price) for line in item.lines]
            existing[item.external_id] = order
            new_orders.append(order)
            new_lines.extend(lines)
            member_orders.append(order)
            _earn(earner, state.rules, order, lines, placed_at, actor)
            earner.tier_progress(spend=total, at=placed_at)
            created += 1
        if created:
            assert earner is not None
            if row.purchase_count == 0:
                firsts.append((row, next(order for order in member_orders if order._state.adding)))
            row.purchase_count += created
            row.last_activity_at = row.updated_at = now
            touched[row.pk] = (row, earner.tier_fields)
        results.append(member_orders)
        _sync(member, row)
    if new_orders:
        try:
            with transaction.atomic():
                Order.objects.bulk_create(new_orders)
        except IntegrityError as exc:  # recorded meanwhile for another member of the program
            raise ConflictError(_("An order with this id was already recorded."), code="order_conflict") from exc
        OrderLine.objects.bulk_create(new_lines)
        batch.write()
        fields = set(BALANCE_FIELDS).union(*(tier_fields for _row, tier_fields in touched.values()))
        Member.objects.bulk_update([row for row, _fields in touched.values()], sorted(fields))
        if notify_referrals:
            for row, order in firsts:
                _first_purchase_hook(member=row, order=order)
    for member, _items in checked:
        _sync(member, locked[member.pk])
    return results


class _EarnPreload:
    """What the purchase rules need for many members, read with one query per kind."""

    def __init__(self, *, program: Program, member_ids: list, now: datetime) -> None:
        _require_moving(program)
        self.program, self.now = program, now
        self.rules = rules_load(program=program, event=EarnRule.Event.PURCHASE)
        limited = [rule.pk for rule in self.rules if rule.limit_period
                   and (rule.limit_points is not None or rule.limit_awards is not None)]
        self.awarded: dict[Any, dict[Any, list]] = {member_id: {rule_id: [] for rule_id in limited}
                                                    for member_id in member_ids}
        if limited:
            rows = (LedgerEntry.objects.filter(member_id__in=member_ids, earn_rule_id__in=limited, kind=Kind.EARN)
                    .exclude(status=Status.CANCELLED).values_list("member_id", "earn_rule_id", "occurred_at",
                                                                  "amount"))
            for member_id, rule_id, occurred_at, amount in rows:
                self.awarded[member_id][rule_id].append((occurred_at, amount))
        self.tiers = list(Tier.objects.filter(program=program).order_by("rank"))
        self.values = members_qualifying_values(program=program, member_ids=member_ids, now=now) \
            if self.tiers else {}
        punch = [rule.pk for rule in self.rules if rule.calculation == EarnRule.Calculation.PUNCH_CARD]
        self.stamps: dict[Any, dict[Any, list]] = {member_id: {rule_id: [] for rule_id in punch}
                                                   for member_id in member_ids}
        if punch:
            for stamp in PunchCardStamp.objects.filter(member_id__in=member_ids, rule_id__in=punch,
                                                       voided_at__isnull=True, redemption__isnull=True,
                                                       award__isnull=True).order_by("created_at", "id"):
                self.stamps[stamp.member_id][stamp.rule_id].append(stamp)

    def earner(self, *, member: Member, batch: LedgerBatch) -> Earner:
        return Earner(member=member, batch=batch, now=self.now, awarded=self.awarded[member.pk], tiers=self.tiers,
                      tier_value=self.values.get(member.pk), open_stamps=self.stamps[member.pk])


def _earn(earner: Earner, rules: list[EarnRule], order: Order, lines: list[OrderLine], at: datetime,
          actor: Any) -> None:
    points_before = earner.member.lifetime
    for rule in rules:
        if not rule_in_window(rule, at):
            continue
        if rule.min_order_value is not None and order.subtotal < rule.min_order_value:
            continue
        weights = rule_weights(rule, lines, order.delivery_cost)
        if not any(line is not None for line, _weight in weights):
            continue  # nothing in the order qualifies for this rule
        if rule.calculation == EarnRule.Calculation.PUNCH_CARD:
            earner.punch(rule=rule, order=order, at=at)
            continue
        entry = earner.credit(points=rule_points(rule, earner.member, weights), source=Source.PURCHASE, at=at,
                              key=f"order:{order.pk}:rule:{rule.pk}", rule=rule, order=order,
                              order_ref=order.external_id, actor=actor)
        if entry is not None:
            earner.batch.attributions.extend(EarnAttribution(entry=entry, line=line, weight=weight)
                                             for line, weight in weights)
    if earner.program.tier_basis == Program.TierBasis.POINTS:
        earner.tier_progress(points=earner.member.lifetime - points_before, at=at)


def _first_purchase_hook(*, member: Member, order: Order) -> None:
    try:
        from apps.referrals.services import referral_on_first_purchase  # optional app: imported lazily
    except ImportError:
        return
    referral_on_first_purchase(member=member, order_id=order.external_id, order_total=order.total,
                               currency=order.currency)


def _refund_lines(order: Order, lines: Sequence[RefundLineInput] | None) -> dict[uuid.UUID, int]:
    """Map line id → quantity to refund; None means everything not refunded yet (a full refund)."""
    order_lines = list(order.lines.all())
    if lines is None:
        return {line.pk: line.quantity - line.refunded_quantity for line in order_lines
                if line.quantity > line.refunded_quantity}
    by_id = {line.pk: line for line in order_lines}
    wanted: dict[uuid.UUID, int] = {}
    for index, item in enumerate(lines):
        if item.line_id is not None:
            line = by_id.get(item.line_id)
        else:
            matches = [line for line in order_lines if line.sku == item.sku]
            if len(matches) > 1:
                raise ApplicationError(_("Several lines have this SKU: give the line id."), code="ambiguous_line",
                                       fields={"lines": {str(index): [_("Ambiguous SKU.")]}})
            line = matches[0] if matches else None
        if line is None:
            raise ApplicationError(_("This line is not in the order."), code="invalid",
                                   fields={"lines": {str(index): [_("Unknown line.")]}})
        if item.quantity < 1:
            raise ApplicationError(_("Refund a positive quantity."), code="invalid",
                                   fields={"lines": {str(index): [_("Must be at least 1.")]}})
        wanted[line.pk] = wanted.get(line.pk, 0) + item.quantity
        if wanted[line.pk] > line.quantity - line.refunded_quantity:
            raise UnprocessableError(_("More items refunded than were bought (and not refunded yet)."),
                                     code="refund_exceeds_quantity",
                                     fields={"lines": {str(index): [_("Too many.")]}})
    return wanted


def _reversal_target(entry: LedgerEntry, lines: dict[uuid.UUID, OrderLine], full: bool) -> int:
    """Points of a purchase award that its order's refunds so far take back (cumulative, rounded down)."""
    if full:
        return entry.amount
    attributions = list(entry.attributions.all())
    total = sum((item.weight for item in attributions), ZERO)
    if total <= 0:
        return 0
    refunded = sum((item.weight * lines[item.line_id].refunded_quantity / lines[item.line_id].quantity
                    for item in attributions if item.line_id is not None), ZERO)
    return int((entry.amount * refunded / total).to_integral_value(rounding=ROUND_FLOOR))


@transaction.atomic
def order_refund(*, order: Order, external_id: str, lines: Sequence[RefundLineInput] | None = None,
                 actor: Any = None) -> OrderRefund:
    """Refund an order, fully (``lines=None``) or per line. Reverses, for each award the purchase earned,
    the refunded share of it (all of it on a full refund), following the program's refund policy where the
    points were already spent, voids punch-card stamps not yet cashed (full refunds), and recalculates the
    tier with the downgrade policy. Idempotent on (order, refund id)."""
    if not external_id or not external_id.strip():
        raise ApplicationError(_("A refund id is required."), code="invalid", fields={"refund_id": [_("Required.")]})
    existing = OrderRefund.objects.filter(order=order, external_id=external_id).first()
    if existing:
        return existing
    member = member_lock(member_id=order.member_id)
    order = Order.objects.select_for_update().get(pk=order.pk)
    existing = OrderRefund.objects.filter(order=order, external_id=external_id).first()
    if existing:
        return existing
    if order.status == Order.Status.REFUNDED:
        raise ConflictError(_("This order is already fully refunded."), code="already_refunded")
    wanted = _refund_lines(order, lines)
    if not wanted:
        raise ApplicationError(_("Nothing to refund."), code="invalid", fields={"lines": [_("Empty.")]})
    order_lines = {line.pk: line for line in order.lines.all()}
    amount = ZERO
    for line_id, quantity in wanted.items():
        line = order_lines[line_id]
        line.refunded_quantity += quantity
        amount += line.unit_price * quantity
    OrderLine.objects.bulk_update([order_lines[line_id] for line_id in wanted], ["refunded_quantity"])
    full = all(line.refunded_quantity == line.quantity for line in order_lines.values())
    if full:
        amount += order.delivery_cost
    order.refunded_total = min(order.total, order.refunded_total + amount)
    order.status = Order.Status.REFUNDED if full else Order.Status.PARTIALLY_REFUNDED
    order.save(update_fields=["refunded_total", "status", "updated_at"])
    refund = OrderRefund.objects.create(order=order, external_id=external_id, amount=amount.quantize(CENT), full=full)
    OrderRefundLine.objects.bulk_create([OrderRefundLine(refund=refund, line_id=line_id, quantity=quantity)
                                         for line_id, quantity in wanted.items()])
    now = timezone.now()
    reversed_points = 0
    awards = LedgerEntry.objects.filter(order=order, kind=Kind.EARN, amount__gt=0).order_by("created_at", "id")
    for award in awards:
        delta = _reversal_target(award, order_lines, full) - reversal_requested_so_far(award=award)
        if delta <= 0:
            continue
        result = reversal_write(member=member, award=award, points=delta, source=Source.REFUND, actor=actor,
                                reason=_("Refund %(refund)s of order %(order)s") % {"refund": external_id,
                                                                                     "order": order.external_id},
                                idempotency_key=f"refund:{refund.pk}:award:{award.pk}", now=now, order=order,
                                order_ref=order.external_id)
        reversed_points += result.requested
    if full:
        PunchCardStamp.objects.filter(order=order, voided_at__isnull=True, redemption__isnull=True,
                                      award__isnull=True).update(voided_at=now)
    _save_balances(member)
    refund.points_reversed = reversed_points
    refund.save(update_fields=["points_reversed", "updated_at"])
    tier_recalculate(member=member, now=now)
    return refund


# ---------------------------------------------------------------------------------------------- events

@transaction.atomic
def event_record(*, member: Member, event: str, idempotency_key: str, custom_event: str = "",
                 occurred_at: datetime | None = None, actor: Any = None) -> list[LedgerEntry]:
    """Run the program's fixed-points rules for a non-purchase event (sign-up, birthday, review, social
    share, referral, custom). Idempotent on ``idempotency_key``: a replay awards nothing more and returns
    the entries of the first call."""
    if event not in EVENT_SOURCES:
        raise ApplicationError(_("Unknown event."), code="invalid", fields={"event": [_("Unknown event.")]})
    if not idempotency_key:
        raise ApplicationError(_("An idempotency key is required."), code="invalid",
                               fields={"idempotency_key": [_("Required.")]})
    prefix = f"event:{member.pk}:{idempotency_key}:rule:"
    locked = member_lock(member_id=member.pk)
    # The prefix names the member: their entries (the member index) are searched, no index of key prefixes.
    done = list(LedgerEntry.objects.filter(member_id=member.pk, idempotency_key__startswith=prefix)
                .order_by("created_at", "id"))
    if done:
        return done
    _require_moving(locked.program)
    now = timezone.now()
    at = occurred_at or now
    batch = LedgerBatch()
    earner = Earner(member=locked, batch=batch, now=now)
    entries = event_earn(earner=earner, event=event, custom_event=custom_event, key_prefix=prefix, at=at,
                         actor=actor)
    if entries:
        batch.write()
        locked.save(update_fields=[*BALANCE_FIELDS, *earner.tier_fields])
    _sync(member, locked)
    return entries


def event_earn(*, earner: Earner, event: str, key_prefix: str, at: datetime, custom_event: str = "",
               actor: Any = None, rules: list[EarnRule] | None = None) -> list[LedgerEntry]:
    """Credit (in the earner's batch) what the event's fixed-points rules give."""
    if rules is None:
        rules = rules_load(program=earner.program, event=event)
    entries = []
    for rule in rules:
        if rule.event != event or rule.calculation != EarnRule.Calculation.FIXED or not rule_in_window(rule, at):
            continue
        if event == EarnRule.Event.CUSTOM and rule.custom_event not in ("", custom_event):
            continue
        entry = earner.credit(points=rule_points(rule, earner.member, []), source=EVENT_SOURCES[event], at=at,
                              key=f"{key_prefix}{rule.pk}", rule=rule, actor=actor)
        if entry is not None:
            entries.append(entry)
    if entries and earner.program.tier_basis == Program.TierBasis.POINTS:
        earner.tier_progress(points=sum(entry.amount for entry in entries), at=at)
    return entries
