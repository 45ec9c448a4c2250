from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.errors import ApplicationError, ConflictError, NotFoundError, UnprocessableError
from apps.loyalty import services
from apps.loyalty.models import LedgerAllocation, LedgerEntry, LedgerImmutableError, Program
from apps.loyalty.services.ledger import MemberRef, add_months
from tests.factories.loyalty import ProgramFactory, TierFactory


def test_award_credits_the_balance_and_writes_one_active_entry(member, award, consistent):
    entry = award(member, 120, reason="welcome")

    member = consistent(member)
    assert (member.available, member.pending, member.lifetime) == (120, 0, 120)
    assert (entry.kind, entry.status, entry.amount, entry.balance_after) == ("earn", "active", 120, 120)


def test_award_replay_with_the_same_key_never_credits_twice(member, award, consistent):
    first = award(member, 50, key="order-1")
    again = award(member, 50, key="order-1")

    assert again.pk == first.pk
    assert consistent(member).available == 50
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_award_key_reused_for_other_points_is_a_conflict_and_writes_nothing(member, award):
    award(member, 50, key="k")
    with pytest.raises(ConflictError):
        award(member, 60, key="k")
    member.refresh_from_db()
    assert member.available == 50


def test_award_key_reused_for_another_member_is_a_conflict(make_member, award):
    first, second = make_member(), make_member()
    award(first, 10, key="shared")
    with pytest.raises(ConflictError):
        award(second, 10, key="shared")
    second.refresh_from_db()
    assert second.available == 0


@pytest.mark.parametrize("points", [0, -5])
def test_award_refuses_non_positive_points(member, award, points):
    with pytest.raises(ApplicationError):
        award(member, points)
    assert not LedgerEntry.objects.filter(member=member).exists()


def test_manual_award_needs_a_reason_and_is_an_adjustment(member, award):
    with pytest.raises(ApplicationError):
        award(member, 10, source="manual")
    entry = award(member, 10, source="manual", reason="goodwill")
    assert entry.kind == "adjust"


def test_draft_program_moves_no_points(member, award):
    Program.objects.filter(pk=member.program_id).update(status="draft")
    member.program.refresh_from_db()
    with pytest.raises(UnprocessableError):
        award(member, 10)
    assert not LedgerEntry.objects.filter(member=member).exists()


def test_pending_points_are_locked_until_unlocked(member, award, consistent):
    entry = award(member, 80, pending_days=14)
    member = consistent(member)
    assert (member.available, member.pending) == (0, 80)
    assert entry.status == "pending"
    with pytest.raises(UnprocessableError):
        services.points_deduct(member=member, points=10, reason="x", idempotency_key="d1")

    assert services.points_unlock_due(now=timezone.now() + timedelta(days=13)) == 0
    assert services.points_unlock_due(now=timezone.now() + timedelta(days=15)) == 1
    assert services.points_unlock_due(now=timezone.now() + timedelta(days=15)) == 0  # safe to run twice
    member = consistent(member)
    assert (member.available, member.pending) == (80, 0)


def test_program_pending_period_applies_by_default(program, member, award, consistent):
    program.pending_days = 7
    program.save()
    member.refresh_from_db()
    award(member, 30)
    assert consistent(member).pending == 30


def test_deduct_takes_oldest_expiry_first_and_records_allocations(program, member, award, consistent):
    program.expiration_enabled, program.expiration_months = True, 12
    program.save()
    member.refresh_from_db()
    late = award(member, 100, expires_at=timezone.now() + timedelta(days=300))
    early = award(member, 40, expires_at=timezone.now() + timedelta(days=10))

    spend = services.points_deduct(member=member, points=60, reason="correction", idempotency_key="d")

    allocations = {a.award_id: a.points for a in LedgerAllocation.objects.filter(spend=spend)}
    assert allocations == {early.pk: 40, late.pk: 20}
    assert consistent(member).available == 80


def test_deduct_refuses_more_than_available_and_writes_nothing(member, award):
    award(member, 30)
    with pytest.raises(UnprocessableError) as info:
        services.points_deduct(member=member, points=31, reason="x", idempotency_key="d")
    assert info.value.code == "insufficient_points"
    member.refresh_from_db()
    assert member.available == 30
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_expiry_expires_what_is_left_of_each_award_once(program, member, award, consistent):
    program.expiration_enabled = True
    program.save()
    member.refresh_from_db()
    soon = award(member, 100, expires_at=timezone.now() + timedelta(days=1))
    award(member, 50, expires_at=timezone.now() + timedelta(days=100))
    services.points_deduct(member=member, points=30, reason="x", idempotency_key="d")  # drawn on `soon`

    later = timezone.now() + timedelta(days=2)
    assert services.points_expire_due(now=later) == 1
    assert services.points_expire_due(now=later) == 0

    member = consistent(member)
    assert member.available == 50
    expire = LedgerEntry.objects.get(member=member, kind="expire")
    assert expire.amount == -70
    soon.refresh_from_db()
    assert soon.status == "expired"


def test_award_expiry_follows_the_program_rule(program, member, award):
    program.expiration_enabled, program.expiration_months = True, 6
    program.save()
    member.refresh_from_db()
    entry = award(member, 10)
    assert entry.expires_at == add_months(entry.status_changed_at, 6)


def test_add_months_clamps_to_the_end_of_month():
    start = timezone.now().replace(year=2025, month=1, day=31)
    assert add_months(start, 1).date().isoformat() == "2025-02-28"
    assert add_months(start, 13).date().isoformat() == "2026-02-28"


def test_transfer_moves_points_with_their_expiry(program, make_member, award, consistent):
    program.transfers_enabled = True
    program.save()
    sender, recipient = make_member(), make_member()
    first_expiry = timezone.now() + timedelta(days=20)
    award(sender, 30, expires_at=first_expiry)
    award(sender, 100)

    out = services.points_transfer(sender=sender, recipient=recipient, points=50, idempotency_key="t1")
    replay = services.points_transfer(sender=sender, recipient=recipient, points=50, idempotency_key="t1")

    assert replay.pk == out.pk
    assert consistent(sender).available == 80
    assert consistent(recipient).available == 50
    received = {entry.amount: entry.expires_at for entry in LedgerEntry.objects.filter(member=recipient)}
    assert received == {30: first_expiry, 20: None}


def test_transfer_refused_when_the_program_does_not_allow_it(make_member, award):
    sender, recipient = make_member(), make_member()
    award(sender, 30)
    with pytest.raises(UnprocessableError):
        services.points_transfer(sender=sender, recipient=recipient, points=10, idempotency_key="t")
    sender.refresh_from_db()
    assert sender.available == 30
    assert not LedgerEntry.objects.filter(member=recipient).exists()


def test_reverse_a_pending_award_cancels_it(member, award, consistent):
    entry = award(member, 40, pending_days=5)
    reversal = services.points_reverse(entry_id=entry.pk, reason="fraud", idempotency_key="r")
    assert reversal.amount == -40
    entry.refresh_from_db()
    assert entry.status == "cancelled"
    member = consistent(member)
    assert (member.pending, member.available, member.lifetime) == (0, 0, 40)
    assert services.points_unlock_due(now=timezone.now() + timedelta(days=6)) == 0


def test_reverse_spent_points_negative_balance_policy_takes_from_other_points(program, member, award, consistent):
    bonus = award(member, 100, source="referral", expires_at=timezone.now() + timedelta(days=10))
    award(member, 50, expires_at=timezone.now() + timedelta(days=400))
    services.points_deduct(member=member, points=100, reason="spent", idempotency_key="s")  # drains `bonus`

    services.points_reverse(entry=bonus, reason="fraud", idempotency_key="r")

    member = consistent(member)
    assert (member.available, member.debt) == (0, 50)


def test_reverse_spent_points_debt_policy_leaves_other_points_and_repays_later(program, member, award, consistent):
    program.refund_policy = Program.RefundPolicy.DEBT
    program.save()
    member.refresh_from_db()
    bonus = award(member, 100, source="referral")
    services.points_deduct(member=member, points=100, reason="spent", idempotency_key="s")
    award(member, 50)

    services.points_reverse(entry=bonus, reason="fraud", idempotency_key="r")
    member = consistent(member)
    assert (member.available, member.debt) == (50, 100)

    award(member, 70)  # new points repay the debt first; the older 50 are left alone
    member = consistent(member)
    assert (member.available, member.debt) == (50, 30)
    assert LedgerEntry.objects.filter(member=member, kind="debt_settle").get().debt_change == -70


def test_reverse_waives_points_that_already_expired(program, member, award, consistent):
    program.expiration_enabled = True
    program.save()
    member.refresh_from_db()
    entry = award(member, 100, expires_at=timezone.now() + timedelta(days=1))
    services.points_expire_due(now=timezone.now() + timedelta(days=2))

    reversal = services.points_reverse(entry=entry, reason="refund", idempotency_key="r")

    assert (reversal.amount, reversal.debt_change, reversal.waived) == (0, 0, 100)
    member = consistent(member)
    assert (member.available, member.debt) == (0, 0)


def test_ledger_entries_cannot_be_edited_or_deleted(member, award):
    entry = award(member, 10)
    with pytest.raises(LedgerImmutableError):
        entry.delete()
    with pytest.raises(LedgerImmutableError):
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=1000)
    entry.amount = 1000
    with pytest.raises(LedgerImmutableError):
        entry.save()


@pytest.mark.parametrize("sql", [
    "UPDATE loyalty_ledgerentry SET amount = 999 WHERE id = %s",
    "UPDATE loyalty_ledgerentry SET status = 'pending' WHERE id = %s",
    "DELETE FROM loyalty_ledgerentry WHERE id = %s",
])
def test_database_trigger_refuses_rewriting_history(member, award, sql):
    entry = award(member, 10)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [entry.pk])
    entry.refresh_from_db()
    assert (entry.amount, entry.status) == (10, "active")


def test_database_refuses_a_negative_available_balance(member, award):
    award(member, 10)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(member).objects.filter(pk=member.pk).update(available=-1)


def test_award_bulk_is_idempotent_per_key_and_keeps_the_invariants(program, make_member, consistent):
    first, second = make_member(), make_member()
    services.points_award(member=first, points=7, source="campaign", idempotency_key="before")
    awards = [services.AwardInput(member=first, points=10, idempotency_key="k1"),
              services.AwardInput(member=second, points=20, idempotency_key="k2"),
              services.AwardInput(member=first, points=7, idempotency_key="before"),  # replay of an earlier award
              services.AwardInput(member=first, points=10, idempotency_key="k1")]  # replay within the batch
    entries = services.points_award_bulk(awards=awards)
    assert entries[0] is entries[3]
    assert entries[2].idempotency_key == "before"
    assert services.points_award_bulk(awards=awards)[1].pk == entries[1].pk
    assert (consistent(first).available, consistent(second).available) == (17, 20)


def test_award_bulk_refuses_a_key_of_another_member_and_writes_nothing(program, make_member):
    first, second = make_member(), make_member()
    services.points_award(member=first, points=5, source="campaign", idempotency_key="mine")
    with pytest.raises(ConflictError):
        services.points_award_bulk(awards=[services.AwardInput(member=second, points=3, idempotency_key="new"),
                                           services.AwardInput(member=second, points=5, idempotency_key="mine")])
    second.refresh_from_db()
    assert second.available == 0
    assert not LedgerEntry.objects.filter(member=second).exists()


def _award_bulk_statements(program: Program, size: int, batch: str) -> tuple[list[str], list]:
    members = services.members_import(program=program, members=[
        services.MemberInput(customer_id=f"{batch}-{index}", email=f"{batch}-{index}@example.test")
        for index in range(size)])
    awards = [services.AwardInput(member=member, points=100 + index, idempotency_key=f"{batch}:{index}")
              for index, member in enumerate(members)]
    with CaptureQueriesContext(connection) as ctx:
        services.points_award_bulk(awards=awards)
    return [query["sql"] for query in ctx.captured_queries], members


@pytest.mark.parametrize("tier_basis", [Program.TierBasis.SPEND, Program.TierBasis.POINTS])
def test_award_bulk_runs_a_constant_number_of_statements(tenant, consistent, tier_basis):
    # given a program (with tiers on points: each member's tier is recalculated too)
    program = ProgramFactory(tier_basis=tier_basis)
    if tier_basis == Program.TierBasis.POINTS:
        TierFactory(program=program, rank=1, threshold=Decimal("0"))
        gold = TierFactory(program=program, rank=2, threshold=Decimal("150"))
    # when 10, then 200 members are awarded in one call each
    small, _few = _award_bulk_statements(program, 10, "small")
    large, many = _award_bulk_statements(program, 200, "large")
    # then the statement count does not grow with the batch (nor does any statement hold a CASE branch per
    # member, which costs the square of the batch), and every balance (and tier) is written
    assert len(small) == len(large)
    assert not any("CASE WHEN" in sql for sql in large)
    assert [consistent(member).available for member in many] == [100 + index for index in range(200)]
    if tier_basis == Program.TierBasis.POINTS:
        assert [member.tier_id == gold.pk for member in many] == [index >= 50 for index in range(200)]


def test_award_bulk_repays_debt_and_keeps_the_balances_of_repeated_members(make_member, award, consistent):
    # given a member in debt (a refunded award already spent) and another member
    debtor, other = make_member(), make_member()
    entry = award(debtor, 40)
    services.points_deduct(member=debtor, points=40, reason="spent", idempotency_key="spent")
    services.points_reverse(entry=entry, reason="refund", idempotency_key="refund")
    debtor.refresh_from_db()
    assert debtor.debt == 40
    # when a batch awards both, the debtor twice
    services.points_award_bulk(awards=[services.AwardInput(member=debtor, points=25, idempotency_key="d1"),
                                       services.AwardInput(member=other, points=5, idempotency_key="o1"),
                                       services.AwardInput(member=debtor, points=30, idempotency_key="d2")])
    # then the debt is repaid first, and the ledger agrees with the saved balances
    debtor, other = consistent(debtor), consistent(other)
    assert (debtor.available, debtor.debt, debtor.lifetime) == (15, 0, 95)
    assert other.available == 5


# ---------------------------------------------------------------------------------------------- by customer id
def test_a_member_named_by_customer_id_is_found_and_locked_in_one_statement(program, member, consistent):
    ref = MemberRef(program_id=program.pk, customer_id=member.customer_id)
    with CaptureQueriesContext(connection) as ctx:
        entry = services.points_award(member=ref, points=12, source="purchase", idempotency_key="by-ref")
    locks = [query["sql"] for query in ctx.captured_queries if "FOR UPDATE" in query["sql"]]
    assert len(locks) == 1 and '"loyalty_member"."customer_id"' in locks[0]
    assert entry.member.pk == member.pk and entry.member.customer_id == member.customer_id
    assert consistent(member).available == 12
    # a replay by reference returns the first entry
    assert services.points_award(member=ref, points=12, source="purchase", idempotency_key="by-ref").pk == entry.pk
    deducted = services.points_deduct(member=ref, points=2, reason="fix", idempotency_key="by-ref-deduct")
    assert deducted.amount == -2 and consistent(member).available == 10


def test_an_unknown_customer_id_is_404_whatever_else_is_wrong_and_writes_nothing(program):
    ref = MemberRef(program_id=program.pk, customer_id="nobody")
    with pytest.raises(NotFoundError) as refused:
        services.points_award(member=ref, points=-1, source="manual", idempotency_key="x")  # also invalid
    assert refused.value.code == "member_not_found"
    with pytest.raises(NotFoundError):
        services.points_deduct(member=ref, points=1, reason="x", idempotency_key="y")
    assert not LedgerEntry.objects.filter(idempotency_key__in=["x", "y"]).exists()


def test_a_customer_id_of_another_program_is_not_found(program, member):
    other = ProgramFactory()
    with pytest.raises(NotFoundError):
        services.points_award(member=MemberRef(program_id=other.pk, customer_id=member.customer_id), points=1,
                              source="purchase", idempotency_key="elsewhere")


# ---------------------------------------------------------------------------------------------- tiers after a credit
@pytest.fixture
def points_tiers(program):  # type: ignore[no-untyped-def]
    program.tier_basis = Program.TierBasis.POINTS
    program.save()
    return [TierFactory(program=program, name="Silver", rank=1, threshold=100),
            TierFactory(program=program, name="Gold", rank=2, threshold=500)]


def _qualifying_reads(ctx) -> int:  # type: ignore[no-untyped-def]
    return sum('SUM("loyalty_ledgerentry"."amount")' in query["sql"] for query in ctx.captured_queries)


def test_a_credit_that_cannot_reach_the_next_tier_skips_the_qualifying_query(points_tiers, member, award):
    with CaptureQueriesContext(connection) as below:
        award(member, 60)
    with CaptureQueriesContext(connection) as reaching:
        award(member, 60)  # lifetime 120 could reach Silver (100): the value is computed, the tier moves
    member.refresh_from_db()
    assert _qualifying_reads(below) == 0
    assert _qualifying_reads(reaching) == 1
    assert member.tier.name == "Silver"


def test_points_that_do_not_qualify_do_not_upgrade_even_when_lifetime_would(points_tiers, program, member, award):
    # given 150 lifetime points, of which only 50 were earned (the rest a manual adjustment, not qualifying)
    award(member, 100, source="manual", reason="goodwill")
    award(member, 50)
    member.refresh_from_db()
    assert member.tier is None  # the value (50) was computed, since lifetime (150) could have reached Silver


def test_a_pending_downgrade_or_a_window_always_recalculates(points_tiers, program, member, award):
    program.tier_window_days = 365
    program.save()
    with CaptureQueriesContext(connection) as windowed:
        award(member, 10)
    assert _qualifying_reads(windowed) == 1
