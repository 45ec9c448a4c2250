from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import ApplicationError, ConflictError, NotFoundError, UnprocessableError
from apps.loyalty import services
from apps.loyalty.models import LedgerEntry, Redemption
from apps.loyalty.services.redemptions import CODE_ALPHABET
from tests.factories.loyalty import ProgramFactory, RewardFactory


@pytest.fixture
def reward(program):
    return RewardFactory(program=program, points_cost=100, value=Decimal("10.00"), stock_limited=True,
                         stock_available=2)


def test_reserve_holds_points_and_stock_then_complete(member, award, reward, consistent):
    award(member, 250)
    redemption = services.redemption_reserve(member=member, reward=reward, idempotency_key="r1")

    assert redemption.status == "reserved"
    assert len(redemption.code) == 12 and set(redemption.code) <= set(CODE_ALPHABET)
    assert consistent(member).available == 150
    reward.refresh_from_db()
    assert (reward.stock_available, reward.stock_reserved) == (1, 1)
    entry = LedgerEntry.objects.get(redemption=redemption)
    assert (entry.kind, entry.status, entry.amount) == ("redeem", "pending", -100)

    done = services.redemption_complete(redemption=redemption)
    assert done.status == "completed"
    assert services.redemption_complete(redemption=redemption).status == "completed"  # no-op
    entry.refresh_from_db()
    assert entry.status == "active"
    reward.refresh_from_db()
    assert (reward.stock_available, reward.stock_reserved) == (1, 0)
    assert consistent(member).available == 150


def test_cancel_gives_points_and_stock_back(member, award, reward, consistent):
    award(member, 100)
    redemption = services.redemption_reserve(member=member, reward=reward, idempotency_key="r1")
    services.redemption_cancel(redemption=redemption, reason="changed my mind")
    services.redemption_cancel(redemption=redemption)  # no-op

    assert consistent(member).available == 100
    reward.refresh_from_db()
    assert (reward.stock_available, reward.stock_reserved) == (2, 0)
    with pytest.raises(ConflictError):
        services.redemption_complete(redemption=redemption)


def test_cancel_after_the_award_expired_returns_nothing_of_it(program, member, award, reward, consistent):
    program.expiration_enabled = True
    program.save()
    member.refresh_from_db()
    award(member, 100, expires_at=timezone.now() + timedelta(hours=1))
    award(member, 100, expires_at=timezone.now() + timedelta(days=100))
    redemption = services.redemption_reserve(member=member, reward=reward, idempotency_key="r1")  # drew on 1st
    services.points_expire_due(now=timezone.now() + timedelta(hours=2))
    services.redemption_cancel(redemption=redemption)
    assert consistent(member).available == 100


def test_completed_redemption_cannot_be_cancelled(member, award, reward):
    award(member, 100)
    redemption = services.points_redeem(member=member, reward=reward, idempotency_key="r1")
    assert redemption.status == "completed"
    with pytest.raises(ConflictError):
        services.redemption_cancel(redemption=redemption)


def test_redeem_replay_returns_the_same_redemption(member, award, reward, consistent):
    award(member, 300)
    first = services.points_redeem(member=member, reward=reward, idempotency_key="same")
    again = services.points_redeem(member=member, reward=reward, idempotency_key="same")
    assert again.pk == first.pk
    assert consistent(member).available == 200


def test_insufficient_points_is_refused_and_writes_nothing(member, award, reward):
    award(member, 99)
    with pytest.raises(UnprocessableError) as info:
        services.redemption_reserve(member=member, reward=reward, idempotency_key="r")
    assert info.value.code == "insufficient_points"
    reward.refresh_from_db()
    assert reward.stock_available == 2
    assert not Redemption.objects.exists()


def test_out_of_stock_is_a_conflict(member, award, reward):
    award(member, 1000)
    services.points_redeem(member=member, reward=reward, idempotency_key="a")
    services.points_redeem(member=member, reward=reward, idempotency_key="b")
    with pytest.raises(ConflictError) as info:
        services.points_redeem(member=member, reward=reward, idempotency_key="c")
    assert info.value.code == "out_of_stock"
    member.refresh_from_db()
    assert member.available == 800


def test_reward_of_another_program_or_inactive_or_outside_window(member, award, tenant):
    award(member, 1000)
    foreign = RewardFactory(program=ProgramFactory())
    with pytest.raises(NotFoundError):
        services.redemption_reserve(member=member, reward=foreign, idempotency_key="a")
    inactive = RewardFactory(program=member.program, status="inactive")
    with pytest.raises(UnprocessableError):
        services.redemption_reserve(member=member, reward=inactive, idempotency_key="b")
    later = RewardFactory(program=member.program, valid_from=timezone.now() + timedelta(days=1))
    with pytest.raises(UnprocessableError):
        services.redemption_reserve(member=member, reward=later, idempotency_key="c")
    member.refresh_from_db()
    assert member.available == 1000


def test_points_redemption_converts_at_the_program_rate(program, member, award):
    program.points_value_per_100, program.min_redeem_points = Decimal("0.50"), 200
    program.save()
    member.refresh_from_db()
    award(member, 1000)
    with pytest.raises(UnprocessableError):
        services.points_redeem(member=member, points=150, idempotency_key="a")
    redemption = services.points_redeem(member=member, points=300, idempotency_key="b")
    assert (redemption.points, redemption.value, redemption.reward) == (300, Decimal("1.50"), None)


def test_reserve_needs_a_reward_or_points(member):
    with pytest.raises(ApplicationError):
        services.redemption_reserve(member=member, idempotency_key="x")


def test_stale_reservations_are_released(program, member, award, reward, consistent):
    award(member, 100)
    services.redemption_reserve(member=member, reward=reward, idempotency_key="r")
    assert services.redemptions_release_expired(now=timezone.now()) == 0
    later = timezone.now() + timedelta(minutes=program.reservation_minutes + 1)
    assert services.redemptions_release_expired(now=later) == 1
    assert services.redemptions_release_expired(now=later) == 0
    assert consistent(member).available == 100
