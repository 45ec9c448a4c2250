"""Property-based: random sequences of earn, order, refund, redeem (reserve/complete/cancel), deduct,
transfer, reverse, unlock and expire; after every step the ledger's invariants hold for every member."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from apps.core.errors import ApplicationError
from apps.loyalty import services
from apps.loyalty.models import LedgerAllocation, LedgerEntry, Member, Order, Program, Redemption
from apps.loyalty.selectors import member_ledger_verify
from apps.loyalty.services import OrderLineInput, RefundLineInput
from tests.factories.loyalty import EarnRuleFactory, ProgramFactory, member_make

MEMBERS = 2
who = st.integers(min_value=0, max_value=MEMBERS - 1)
points = st.integers(min_value=1, max_value=200)

operations = st.one_of(
    st.tuples(st.just("earn"), who, st.integers(50, 400), st.integers(0, 3), st.integers(1, 60)),
    st.tuples(st.just("order"), who, st.lists(st.tuples(st.integers(1, 3), st.integers(1, 120)), min_size=1,
                                              max_size=3)),
    st.tuples(st.just("refund"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("redeem"), who, points),
    st.tuples(st.just("reserve"), who, points),
    st.tuples(st.just("settle"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("deduct"), who, points),
    st.tuples(st.just("transfer"), who, points),
    st.tuples(st.just("reverse"), st.integers(0, 40), st.one_of(st.none(), points)),
    st.tuples(st.just("advance"), st.integers(1, 40)),
)


class Rollback(Exception):  # noqa: N818 - control flow: undo the example's writes
    pass


def _check(members: list[Member], lifetime: dict) -> None:
    for member in members:
        assert member_ledger_verify(member=member) == [], member_ledger_verify(member=member)
        fresh = Member.objects.get(pk=member.pk)
        assert fresh.available >= 0
        assert fresh.lifetime >= lifetime.get(member.pk, 0), "lifetime went down"
        lifetime[member.pk] = fresh.lifetime
    # An allocation never draws more from a credit than it has.
    for credit in LedgerEntry.objects.filter(member__in=members, amount__gt=0):
        drawn = sum(a.points for a in LedgerAllocation.objects.filter(award=credit)
                    .exclude(spend__status="cancelled"))
        assert 0 <= drawn <= credit.amount


def _apply(op: tuple, *, members: list[Member], clock: list, counter: list) -> None:
    counter[0] += 1
    key = f"prop-{counter[0]}"
    name = op[0]
    if name == "earn":
        _, index, amount, pending, days = op
        services.points_award(member=members[index], points=amount, source="campaign", idempotency_key=key,
                              pending_days=pending, expires_at=clock[0] + timedelta(days=days))
    elif name == "order":
        _, index, lines = op
        services.order_record(member=members[index], external_id=key, lines=[
            OrderLineInput(sku=f"S{n}", quantity=quantity, unit_price=Decimal(price))
            for n, (quantity, price) in enumerate(lines)])
    elif name == "refund":
        _, pick, full = op
        orders = list(Order.objects.filter(member__in=members).exclude(status="refunded").order_by("created_at"))
        if orders:
            order = orders[pick % len(orders)]
            line = order.lines.filter(refunded_quantity__lt=1_000_000).order_by("created_at").first()
            lines = None if full or line.quantity == line.refunded_quantity else [
                RefundLineInput(line_id=line.pk, quantity=1)]
            services.order_refund(order=order, external_id=key, lines=lines)
    elif name == "redeem":
        services.points_redeem(member=members[op[1]], points=op[2], idempotency_key=key)
    elif name == "reserve":
        services.redemption_reserve(member=members[op[1]], points=op[2], idempotency_key=key)
    elif name == "settle":
        _, pick, complete = op
        reserved = list(Redemption.objects.filter(member__in=members, status="reserved").order_by("created_at"))
        if reserved:
            redemption = reserved[pick % len(reserved)]
            if complete:
                services.redemption_complete(redemption=redemption)
            else:
                services.redemption_cancel(redemption=redemption)
    elif name == "deduct":
        services.points_deduct(member=members[op[1]], points=op[2], reason="property", idempotency_key=key)
    elif name == "transfer":
        sender = members[op[1]]
        recipient = members[(op[1] + 1) % MEMBERS]
        services.points_transfer(sender=sender, recipient=recipient, points=op[2], idempotency_key=key)
    elif name == "reverse":
        _, pick, amount = op
        credits = list(LedgerEntry.objects.filter(member__in=members, kind="earn").order_by("created_at", "id"))
        if credits:
            services.points_reverse(entry=credits[pick % len(credits)], points=amount, reason="property",
                                    idempotency_key=key)
    elif name == "advance":
        clock[0] += timedelta(days=op[1])
        services.points_unlock_due(now=clock[0])
        services.points_expire_due(now=clock[0])


@pytest.mark.parametrize("policy", [Program.RefundPolicy.NEGATIVE_BALANCE, Program.RefundPolicy.DEBT])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(steps=st.lists(operations, min_size=1, max_size=25))
# Scenarios worth running every time, whatever the random search finds:
@example(steps=[("earn", 0, 100, 0, 5), ("reserve", 0, 50), ("advance", 10), ("settle", 0, False)])
@example(steps=[("order", 0, [(2, 50)]), ("redeem", 0, 80), ("earn", 0, 60, 0, 30), ("refund", 0, False),
                ("refund", 0, True), ("earn", 0, 200, 0, 50)])
@example(steps=[("earn", 0, 100, 2, 40), ("reverse", 0, 30), ("advance", 3), ("reverse", 0, None),
                ("earn", 0, 50, 0, 9), ("advance", 10)])
@example(steps=[("order", 0, [(1, 100), (3, 10)]), ("transfer", 0, 90), ("refund", 0, False),
                ("reverse", 0, None), ("earn", 0, 400, 0, 5), ("transfer", 1, 50), ("advance", 6)])
def test_ledger_invariants_hold_after_every_step(tenant, policy, steps):
    try:
        with transaction.atomic():
            program = ProgramFactory(refund_policy=policy, expiration_enabled=True, transfers_enabled=True)
            EarnRuleFactory(program=program, points_per_unit=Decimal("1"))
            members = [member_make(program) for _index in range(MEMBERS)]
            clock, counter, lifetime = [timezone.now()], [0], {}
            for op in steps:
                # A refused step (not enough points, nothing to reverse...) must leave no trace.
                with contextlib.suppress(ApplicationError):
                    _apply(op, members=members, clock=clock, counter=counter)
                _check(members, lifetime)
            raise Rollback
    except Rollback:
        pass
