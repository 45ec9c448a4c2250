from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from apps.core.errors import ApplicationError, ConflictError, UnprocessableError
from apps.loyalty import services
from apps.loyalty.models import (
    EarnRule,
    EarnRuleExclusion,
    EarnRuleMultiplier,
    LedgerEntry,
    Order,
    Program,
    PunchCardStamp,
    Redemption,
)
from apps.loyalty.services import OrderLineInput as Line
from apps.loyalty.services import RefundLineInput as RefundLine
from tests.factories.loyalty import EarnRuleFactory, RewardFactory, TierFactory

D = Decimal


def record(member, order_id="o-1", lines=None, **kwargs):
    lines = lines or [Line(sku="A", quantity=2, unit_price=D("25.00")), Line(sku="B", quantity=1, unit_price=D("50"))]
    return services.order_record(member=member, external_id=order_id, lines=lines, **kwargs)


def earned(order):
    return sum(LedgerEntry.objects.filter(order=order, kind="earn").values_list("amount", flat=True))


def test_purchase_earns_points_per_currency_unit(program, member, consistent):
    EarnRuleFactory(program=program, points_per_unit=D("2"))
    order = record(member)
    assert (order.subtotal, order.total) == (D("100.00"), D("100.00"))
    assert earned(order) == 200
    assert consistent(member).available == 200


def test_order_replay_returns_the_order_and_earns_once(program, member, consistent):
    EarnRuleFactory(program=program)
    first = record(member)
    again = record(member)
    assert again.pk == first.pk
    assert consistent(member).available == 100


def test_same_order_id_with_other_details_is_a_conflict(program, member):
    EarnRuleFactory(program=program)
    record(member)
    with pytest.raises(ConflictError):
        record(member, lines=[Line(sku="A", quantity=1, unit_price=D("1"))])
    assert Order.objects.count() == 1


def test_order_in_another_currency_is_refused(program, member):
    EarnRuleFactory(program=program)
    with pytest.raises(UnprocessableError):
        record(member, currency="EUR")
    assert not Order.objects.exists()


def test_minimum_order_value_fixed_bonus_and_window(program, member):
    EarnRuleFactory(program=program, calculation="fixed", fixed_points=30, min_order_value=D("100"))
    EarnRuleFactory(program=program, calculation="fixed", fixed_points=999,
                    starts_at=timezone.now() + timedelta(days=1))
    small = record(member, "small", [Line(sku="A", quantity=1, unit_price=D("99.99"))])
    big = record(member, "big")
    assert (earned(small), earned(big)) == (0, 30)


def test_exclusions_and_label_multipliers(program, member):
    rule = EarnRuleFactory(program=program, points_per_unit=D("1"))
    EarnRuleExclusion.objects.create(rule=rule, scope="sku", value="GIFTCARD")
    EarnRuleMultiplier.objects.create(rule=rule, scope="label", value="promo", multiplier=D("3"))
    order = record(member, lines=[
        Line(sku="GIFTCARD", quantity=1, unit_price=D("100")),
        Line(sku="SHOE", quantity=1, unit_price=D("10"), labels=("promo",)),
        Line(sku="SOCK", quantity=1, unit_price=D("5")),
    ], delivery_cost=D("7"))
    assert earned(order) == 35  # 10×3 + 5; gift card and delivery excluded


def test_delivery_counts_when_not_excluded(program, member):
    EarnRuleFactory(program=program, exclude_delivery=False)
    order = record(member, lines=[Line(sku="A", quantity=1, unit_price=D("10"))], delivery_cost=D("5"))
    assert earned(order) == 15


def test_tier_multipliers_apply(program, member):
    gold = TierFactory(program=program, name="Gold", rank=1, threshold=D("0"), points_multiplier=D("1.5"))
    rule = EarnRuleFactory(program=program, points_per_unit=D("1"))
    EarnRuleMultiplier.objects.create(rule=rule, scope="tier", tier=gold, multiplier=D("2"))
    services.member_tier_recalculate(member_id=member.pk)
    member.refresh_from_db()
    assert member.tier == gold
    assert earned(record(member, lines=[Line(sku="A", quantity=1, unit_price=D("10"))])) == 30


def test_per_member_period_limits(program, member):
    EarnRuleFactory(program=program, points_per_unit=D("1"), limit_period="day", limit_points=150)
    EarnRuleFactory(program=program, calculation="fixed", fixed_points=5, limit_period="lifetime", limit_awards=1)
    first, second, third = (record(member, f"o{n}") for n in range(3))
    assert (earned(first), earned(second), earned(third)) == (105, 50, 0)


def test_program_budget_caps_what_rules_issue(program, make_member):
    program.points_budget = 150
    program.save()
    EarnRuleFactory(program=program)
    one, two = make_member(), make_member()
    assert earned(record(one, "a")) == 100
    assert earned(record(two, "b")) == 50
    assert earned(record(two, "c")) == 0


def test_punch_card_issues_the_reward_on_the_nth_purchase(program, member):
    coffee = RewardFactory(program=program, name="Free coffee", type="free_product", points_cost=0)
    EarnRuleFactory(program=program, calculation="punch_card", punches_required=3, punch_reward=coffee,
                    min_order_value=D("5"))
    record(member, "p1")
    record(member, "tiny", [Line(sku="A", quantity=1, unit_price=D("1"))])  # below the minimum: no punch
    record(member, "p2")
    assert not Redemption.objects.filter(member=member).exists()
    record(member, "p3")
    issued = Redemption.objects.get(member=member)
    assert (issued.reward, issued.points, issued.status) == (coffee, 0, "completed")
    assert PunchCardStamp.objects.filter(member=member, redemption=issued).count() == 3


def test_first_purchase_calls_the_referral_hook_once(program, member):
    with mock.patch("apps.referrals.services.referral_on_first_purchase") as hook:
        record(member, "first")
        record(member, "second")
    hook.assert_called_once()
    assert hook.call_args.kwargs["order_id"] == "first"
    assert hook.call_args.kwargs["order_total"] == D("100.00")


def test_full_refund_reverses_everything_the_purchase_earned(program, member, consistent):
    EarnRuleFactory(program=program)
    EarnRuleFactory(program=program, calculation="fixed", fixed_points=20)
    order = record(member)
    refund = services.order_refund(order=order, external_id="r1")
    assert refund.points_reversed == 120
    assert refund.full
    order.refresh_from_db()
    assert (order.status, order.refunded_total) == ("refunded", D("100.00"))
    member = consistent(member)
    assert (member.available, member.lifetime) == (0, 120)


def test_partial_refunds_reverse_proportionally_and_add_up_exactly(program, member, consistent):
    EarnRuleFactory(program=program, points_per_unit=D("1"))
    order = record(member, lines=[Line(sku="A", quantity=3, unit_price=D("10")),
                                  Line(sku="B", quantity=1, unit_price=D("1"))])
    assert earned(order) == 31
    line_a = order.lines.get(sku="A")
    first = services.order_refund(order=order, external_id="r1", lines=[RefundLine(line_id=line_a.pk, quantity=1)])
    second = services.order_refund(order=order, external_id="r2", lines=[RefundLine(sku="A", quantity=2)])
    assert (first.points_reversed, second.points_reversed) == (10, 20)
    assert services.order_refund(order=order, external_id="r2").pk == second.pk  # replay
    last = services.order_refund(order=order, external_id="r3")
    assert last.points_reversed == 1
    assert consistent(member).available == 0


def test_refund_of_more_than_bought_is_refused(program, member):
    order = record(member)
    with pytest.raises(UnprocessableError):
        services.order_refund(order=order, external_id="r", lines=[RefundLine(sku="B", quantity=2)])
    with pytest.raises(ApplicationError):
        services.order_refund(order=order, external_id="r", lines=[RefundLine(sku="NOPE", quantity=1)])
    order.refresh_from_db()
    assert order.status == "completed"
    assert not order.refunds.exists()


def test_refund_after_full_refund_is_a_conflict(program, member):
    order = record(member)
    services.order_refund(order=order, external_id="r1")
    with pytest.raises(ConflictError):
        services.order_refund(order=order, external_id="r2")


def test_refund_of_spent_points_follows_the_negative_balance_policy(program, member, award, consistent):
    EarnRuleFactory(program=program)
    order = record(member)  # +100
    award(member, 30)  # no expiry on either: the older award is spent first
    services.points_deduct(member=member, points=90, reason="spent", idempotency_key="s")  # 90 of the 100

    services.order_refund(order=order, external_id="r")

    member = consistent(member)
    # 10 left on the award are taken back; the 90 spent come from the other 30 points, 60 become debt.
    assert (member.available, member.debt) == (0, 60)


def test_refund_of_spent_points_under_the_debt_policy(program, member, award, consistent):
    program.refund_policy = Program.RefundPolicy.DEBT
    program.save()
    member.refresh_from_db()
    EarnRuleFactory(program=program)
    order = record(member)
    award(member, 30)
    services.points_deduct(member=member, points=90, reason="spent", idempotency_key="s")

    services.order_refund(order=order, external_id="r")

    member = consistent(member)
    assert (member.available, member.debt) == (30, 90)


def test_refund_recalculates_the_tier_with_automatic_downgrade(program, member):
    silver = TierFactory(program=program, name="Silver", rank=1, threshold=D("100"))
    order = record(member)
    member.refresh_from_db()
    assert member.tier == silver
    services.order_refund(order=order, external_id="r", lines=[RefundLine(sku="B", quantity=1)])
    member.refresh_from_db()
    assert member.tier is None


def test_refund_downgrade_waits_for_the_grace_period(program, member):
    program.tier_downgrade_policy, program.tier_downgrade_after_days = "after_days", 30
    program.save()
    member.refresh_from_db()
    silver = TierFactory(program=program, name="Silver", rank=1, threshold=D("100"))
    order = record(member)
    services.order_refund(order=order, external_id="r")
    member.refresh_from_db()
    assert member.tier == silver
    assert member.tier_downgrade_at is not None

    assert services.tier_downgrades_apply_due(now=timezone.now() + timedelta(days=29)) == 0
    assert services.tier_downgrades_apply_due(now=timezone.now() + timedelta(days=31)) == 1
    member.refresh_from_db()
    assert (member.tier, member.tier_downgrade_at) == (None, None)


def test_no_downgrade_policy_keeps_the_tier(program, member):
    program.tier_downgrade_policy = "none"
    program.save()
    member.refresh_from_db()
    silver = TierFactory(program=program, name="Silver", rank=1, threshold=D("100"))
    services.order_refund(order=record(member), external_id="r")
    member.refresh_from_db()
    assert member.tier == silver


def test_full_refund_voids_an_uncashed_punch(program, member):
    EarnRuleFactory(program=program, calculation="punch_card", punches_required=5,
                    punch_reward=RewardFactory(program=program, points_cost=0))
    order = record(member)
    services.order_refund(order=order, external_id="r")
    assert PunchCardStamp.objects.get(order=order).voided_at is not None


def test_events_run_fixed_rules_once_per_key(program, member, consistent):
    EarnRuleFactory(program=program, event="review", calculation="fixed", fixed_points=25)
    EarnRuleFactory(program=program, event="custom", custom_event="app_install", calculation="fixed",
                    fixed_points=40)
    assert [e.amount for e in services.event_record(member=member, event="review", idempotency_key="rv1")] == [25]
    assert [e.amount for e in services.event_record(member=member, event="review", idempotency_key="rv1")] == [25]
    assert services.event_record(member=member, event="custom", custom_event="other", idempotency_key="c") == []
    assert len(services.event_record(member=member, event="custom", custom_event="app_install",
                                     idempotency_key="c2")) == 1
    assert consistent(member).available == 65


def test_signup_rule_runs_on_enrolment(program, make_member):
    EarnRuleFactory(program=program, event=EarnRule.Event.SIGNUP, calculation="fixed", fixed_points=50)
    member = make_member()
    assert member.available == 50
    assert services.member_enroll(program=program, customer_id=member.customer_id, email="x@y.z").pk == member.pk
    member.refresh_from_db()
    assert member.available == 50


def _twin_program(program):
    """Rules where history matters: limits, a tier multiplier, a punch card, a spend tier threshold."""
    gold = TierFactory(program=program, name="Gold", rank=1, threshold=D("150"), points_multiplier=D("2"))
    rule = EarnRuleFactory(program=program, points_per_unit=D("1"), limit_period="month", limit_points=400)
    EarnRuleMultiplier.objects.create(rule=rule, scope="label", value="promo", multiplier=D("3"))
    EarnRuleFactory(program=program, calculation="fixed", fixed_points=10, limit_period="lifetime", limit_awards=2)
    EarnRuleFactory(program=program, calculation="punch_card", punches_required=2, fixed_points=7)
    return gold


def test_orders_record_in_bulk_earns_exactly_what_one_by_one_does(program, make_member, consistent):
    _twin_program(program)
    one_by_one, in_bulk = make_member(), make_member()
    history = [
        services.OrderInput(external_id=f"h{n}", placed_at=timezone.now() - timedelta(days=40 - n * 3),
                            delivery_cost=D("5"),
                            lines=[Line(sku="A", quantity=n + 1, unit_price=D("20")),
                                   Line(sku="P", quantity=1, unit_price=D("9.99"), labels=("promo",))])
        for n in range(6)
    ]
    for item in history:
        services.order_record(member=one_by_one, external_id=f"one-{item.external_id}", lines=item.lines,
                              delivery_cost=item.delivery_cost, placed_at=item.placed_at)
    bulk = services.orders_record(member=in_bulk, orders=history)
    assert services.orders_record(member=in_bulk, orders=history) == bulk  # replay: the same orders

    def earned_per_order(member):
        return [sorted(LedgerEntry.objects.filter(order__member=member, order__placed_at=item.placed_at)
                       .values_list("amount", flat=True)) for item in history]

    assert earned_per_order(in_bulk) == earned_per_order(one_by_one)
    one_by_one, in_bulk = consistent(one_by_one), consistent(in_bulk)
    fields = ("available", "pending", "lifetime", "purchase_count", "tier_id")
    assert [getattr(in_bulk, name) for name in fields] == [getattr(one_by_one, name) for name in fields]
    assert in_bulk.tier is not None


def test_members_import_enrols_like_member_enroll(program, make_member):
    EarnRuleFactory(program=program, event="signup", calculation="fixed", fixed_points=30)
    referrer = make_member()
    existing = make_member()
    rows = [services.MemberInput(customer_id="imp-1", email="One@Example.test", name="One",
                                 consents={"email": True}, referred_by_code=referrer.referral_code.lower()),
            services.MemberInput(customer_id=existing.customer_id, email="other@example.test"),
            services.MemberInput(customer_id="imp-2", email="two@example.test")]
    imported = services.members_import(program=program, members=rows)
    assert imported[1].pk == existing.pk
    one = imported[0]
    one.refresh_from_db()
    assert (one.email, one.available, one.lifetime, one.consent_email, one.referred_by) == (
        "one@example.test", 30, 30, True, referrer)
    assert len({one.referral_code, imported[2].referral_code, referrer.referral_code}) == 3
    assert services.member_enroll(program=program, customer_id="imp-1", email="x@example.test").pk == one.pk
    with pytest.raises(ApplicationError):
        services.members_import(program=program, members=[services.MemberInput(customer_id="", email="bad")])
