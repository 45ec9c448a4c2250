"""The ledger's row-based bulk paths (apps/loyalty/services/ledger.py): ``points_award_rows_bulk`` (what the
campaign engine allocates through) and ``members_enroll_bulk``, with the same promises as their single
counterparts: idempotent keys, debt repaid first, invariants that ``member_ledger_verify`` checks, one
statement per table whatever the batch size. (Their TLP mirror: tests/campaigns/test_execution.py.)"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.core.errors import ApplicationError, ConflictError, NotFoundError, UnprocessableError
from apps.loyalty import services
from apps.loyalty.models import LedgerEntry, Member, Program
from apps.loyalty.selectors import member_ledger_verify
from apps.loyalty.services.ledger import (
    AwardRow,
    MemberRow,
    members_enroll_bulk,
    members_enroll_plan,
    points_award_rows_bulk,
)
from tests.factories.loyalty import EarnRuleFactory, ProgramFactory, TierFactory, member_make


def test_rows_bulk_awards_are_idempotent_and_repay_debt_first(program, make_member, award, consistent):
    # given a member in debt (a refunded award already spent) and another member
    debtor, other = make_member(), make_member()
    entry = award(debtor, 40)
    services.points_deduct(member=debtor, points=40, reason="spent", idempotency_key="spent")
    services.points_reverse(entry=entry, reason="refund", idempotency_key="refund")
    awards = [AwardRow(debtor.pk, 25, "d1"), AwardRow(other.pk, 5, "o1"), AwardRow(debtor.pk, 30, "d2"),
              AwardRow(other.pk, 5, "o1")]  # the last one replays the second, within the batch

    ids = points_award_rows_bulk(awards=awards)

    # then one entry id per award (a replay gives the first), the debt is repaid first, balances agree
    assert len(ids) == 4 and ids[1] == ids[3] and len(set(ids)) == 3
    debtor, other = consistent(debtor), consistent(other)
    assert (debtor.available, debtor.debt, debtor.lifetime) == (15, 0, 95)
    assert other.available == 5
    assert sorted(LedgerEntry.objects.filter(member=debtor, kind="debt_settle").values_list("amount", flat=True)) \
        == [-25, -15]
    # and the whole batch again is a replay: the same ids, nothing written
    before = LedgerEntry.objects.count()
    assert points_award_rows_bulk(awards=awards) == ids
    assert LedgerEntry.objects.count() == before


def test_rows_bulk_refuses_and_writes_nothing(program, make_member):
    first, second = make_member(), make_member()
    services.points_award(member=first, points=5, source="campaign", idempotency_key="mine")
    with pytest.raises(ConflictError):  # a key already used for another member
        points_award_rows_bulk(awards=[AwardRow(second.pk, 3, "new"), AwardRow(second.pk, 5, "mine")])
    with pytest.raises(ConflictError):  # the same key with other points
        points_award_rows_bulk(awards=[AwardRow(first.pk, 6, "mine")])
    with pytest.raises(ApplicationError):
        points_award_rows_bulk(awards=[AwardRow(second.pk, 0, "zero")])
    with pytest.raises(NotFoundError):
        points_award_rows_bulk(awards=[AwardRow(program.pk, 1, "nobody")])
    draft = ProgramFactory(status=Program.Status.DRAFT)
    with pytest.raises(UnprocessableError):
        points_award_rows_bulk(awards=[AwardRow(member_make(draft).pk, 1, "draft")])
    second.refresh_from_db()
    assert second.available == 0 and not LedgerEntry.objects.filter(member=second).exists()


def test_rows_bulk_pending_and_expiring_points_follow_the_program(tenant, consistent):
    program = ProgramFactory(pending_days=7, expiration_enabled=True, expiration_months=6)
    member = member_make(program)

    points_award_rows_bulk(awards=[AwardRow(member.pk, 50, "p"), AwardRow(member.pk, 20, "now", pending_days=0)])

    member = consistent(member)
    assert (member.pending, member.available, member.lifetime) == (50, 20, 70)
    pending = LedgerEntry.objects.get(idempotency_key="p")
    assert pending.status == "pending" and pending.unlock_at is not None and pending.expires_at is not None


def test_rows_bulk_decides_points_based_tiers(tenant, consistent):
    program = ProgramFactory(tier_basis=Program.TierBasis.POINTS)
    TierFactory(program=program, rank=1, threshold=0)
    gold = TierFactory(program=program, rank=2, threshold=100)
    rich, poor = member_make(program), member_make(program)

    points_award_rows_bulk(awards=[AwardRow(rich.pk, 150, "rich"), AwardRow(poor.pk, 20, "poor")])

    assert consistent(rich).tier_id == gold.pk and consistent(poor).tier_id != gold.pk


def _statements(program: Program, size: int, batch: str) -> list[str]:
    ids = members_enroll_bulk(program=program, members=[MemberRow(f"{batch}-{i}") for i in range(size)])
    with CaptureQueriesContext(connection) as ctx:
        points_award_rows_bulk(awards=[AwardRow(member_id, 10 + i, f"{batch}:{i}") for i, member_id in enumerate(ids)])
    return [query["sql"] for query in ctx.captured_queries]


def test_rows_bulk_and_enrolment_run_a_constant_number_of_statements(program):
    assert len(_statements(program, 5, "small")) == len(_statements(program, 300, "large"))


def test_enrol_bulk_returns_existing_members_and_allows_a_blank_email(program):
    known = member_make(program, customer_id="known")

    ids = members_enroll_bulk(program=program, members=[
        MemberRow("known", "other@example.test"), MemberRow(" new ", "New@Example.Test", "New One"),
        MemberRow("anonymous"), MemberRow("new")])

    assert ids[0] == known.pk and ids[1] == ids[3]
    new, anonymous = Member.objects.get(pk=ids[1]), Member.objects.get(pk=ids[2])
    assert (new.customer_id, new.email, new.name) == ("new", "new@example.test", "New One")
    assert anonymous.email == "" and len(anonymous.referral_code) == 8
    known.refresh_from_db()
    assert known.email != "other@example.test"  # an enrolled member is returned unchanged
    assert members_enroll_bulk(program=program, members=[MemberRow("anonymous")]) == [ids[2]]


def test_enrol_bulk_refuses_invalid_rows_and_a_draft_program(program):
    with pytest.raises(ApplicationError) as refused:
        members_enroll_bulk(program=program, members=[MemberRow(""), MemberRow("x", "not-an-email")])
    assert set(refused.value.fields["members"]) == {"0", "1"}
    with pytest.raises(UnprocessableError):
        members_enroll_bulk(program=ProgramFactory(status=Program.Status.DRAFT), members=[MemberRow("a")])
    assert not Member.objects.filter(program=program).exists()


def test_enrol_bulk_runs_sign_up_rules_through_members_import(tenant):
    program = ProgramFactory()
    EarnRuleFactory(program=program, event="signup", calculation="fixed", fixed_points=25)
    (member_id,) = members_enroll_bulk(program=program, members=[MemberRow("c1", "c1@example.test")])
    assert Member.objects.get(pk=member_id).available == 25


def test_rows_bulk_writes_planned_members_once_with_their_balances(program, consistent):
    # given a plan: one customer already enrolled, two joining (one of them awarded nothing)
    known = member_make(program, customer_id="known")
    plan = members_enroll_plan(program=program, members=[MemberRow("known"), MemberRow("j1", "j1@example.test"),
                                                         MemberRow("j2")])
    assert plan.ids[0] == known.pk and set(plan.joining) == {plan.ids[1], plan.ids[2]}
    assert not Member.objects.filter(pk__in=plan.ids[1:]).exists()  # planned, not written yet
    awards = [AwardRow(known.pk, 7, "k"), AwardRow(plan.ids[1], 30, "j1a"), AwardRow(plan.ids[1], 12, "j1b")]

    with CaptureQueriesContext(connection) as ctx:
        ids = points_award_rows_bulk(awards=awards, enrolment=plan)

    # then the joining members are inserted with their final balances: no balance update, no lock of theirs
    updates = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "loyalty_member"')]
    assert len(updates) == 1  # the known member's balances only
    joined, idle = consistent(Member.objects.get(pk=plan.ids[1])), consistent(Member.objects.get(pk=plan.ids[2]))
    assert (joined.available, joined.lifetime, joined.email) == (42, 42, "j1@example.test")
    assert (idle.available, idle.lifetime, len(idle.referral_code)) == (0, 0, 8)
    assert consistent(known).available == 7
    # and the batch again (now without a plan: the members exist) is a replay
    before = LedgerEntry.objects.count()
    assert points_award_rows_bulk(awards=awards) == ids
    assert LedgerEntry.objects.count() == before


def test_rows_bulk_refuses_a_plan_whose_customer_joined_meanwhile(program):
    # given a plan, and the same customer enrolled by someone else before it is written
    plan = members_enroll_plan(program=program, members=[MemberRow("late")])
    (other,) = members_enroll_bulk(program=program, members=[MemberRow("late")])

    with pytest.raises(ConflictError):
        points_award_rows_bulk(awards=[AwardRow(plan.ids[0], 5, "late:1")], enrolment=plan)

    # then nothing of the batch was written: the customer has one member, no points
    assert list(Member.objects.filter(program=program, customer_id="late").values_list("pk", "available")) \
        == [(other, 0)]
    assert not LedgerEntry.objects.filter(idempotency_key="late:1").exists()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.sampled_from(["bulk", "deduct", "reverse"]), st.integers(0, 2),
                                st.integers(1, 120), st.integers(0, 2)), min_size=1, max_size=12))
def test_rows_bulk_keeps_the_ledger_invariants(tenant, steps):
    program = ProgramFactory(refund_policy=Program.RefundPolicy.DEBT)
    members = [member_make(program) for _ in range(3)]
    credits: list[LedgerEntry] = []
    for index, (operation, who, points, pending) in enumerate(steps):
        member = members[who]
        try:
            if operation == "bulk":
                ids = points_award_rows_bulk(awards=[
                    AwardRow(member.pk, points, f"b{index}", pending_days=pending),
                    AwardRow(members[(who + 1) % 3].pk, points // 2 + 1, f"c{index}"),
                    AwardRow(member.pk, points, f"b{index}", pending_days=pending)])
                credits.extend(LedgerEntry.objects.filter(pk__in=ids))
            elif operation == "deduct":
                member.refresh_from_db()
                services.points_deduct(member=member, points=points, reason="spent", idempotency_key=f"d{index}")
            elif credits:
                services.points_reverse(entry=credits[points % len(credits)], reason="refund",
                                        idempotency_key=f"r{index}")
        except ApplicationError:
            pass
        for each in members:
            assert member_ledger_verify(member=each) == []
