"""Real concurrency against PostgreSQL: 50 threads, each with its own database connection, redeem at the
same instant through the HTTP endpoint. The balance covers 10 redemptions: exactly 10 succeed."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from rest_framework.test import APIClient

from apps.core.models import IdempotencyRecord
from apps.loyalty import services
from apps.loyalty.models import (
    LedgerEntry,
    Member,
    Redemption,
)
from apps.loyalty.selectors import member_ledger_verify
from tests.factories.loyalty import ProgramFactory, RewardFactory, member_make
from tests.support import loyalty_program_purge

THREADS = 50
COST = 100
BALANCE = 10 * COST


@pytest.fixture
def funded(committed) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Committed in alpha's schema (other connections must see it): a program, a member holding exactly
    ten rewards' worth of points, the reward, and an admin user. All removed afterwards."""
    user = committed.user("alpha", role="admin")
    with schema_context("alpha"):
        program = ProgramFactory()
        committed.on_cleanup(lambda: loyalty_program_purge(program.pk))
        member = member_make(program, customer_id=f"conc-{uuid.uuid4().hex[:8]}")
        reward = RewardFactory(program=program, points_cost=COST)
        services.points_award(member=member, points=BALANCE, source="campaign", idempotency_key=f"fund-{member.pk}")
    committed.on_cleanup(lambda: _records_purge(user))
    return {"user": user, "member": member, "reward": reward, "program": program}


def _records_purge(user: Any) -> None:
    with schema_context("alpha"):
        IdempotencyRecord.objects.filter(caller=f"user:{user.pk}").delete()


def test_fifty_simultaneous_redemptions_against_a_balance_for_ten(funded):
    member, reward, user = funded["member"], funded["reward"], funded["user"]
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def redeem(index: int) -> None:
        try:
            client = APIClient(HTTP_HOST="alpha.localhost")
            client.force_authenticate(user=user)
            barrier.wait(timeout=30)
            response = client.post("/api/loyalty-referral/points/redeem",
                                   {"customer_id": member.customer_id, "reward": str(reward.pk)}, format="json",
                                   HTTP_IDEMPOTENCY_KEY=f"redeem-{index}")
            with lock:
                statuses.append(response.status_code)
                if response.status_code >= 400:
                    codes.append(response.json()["error"]["code"])
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors, errors
    counts = Counter(statuses)
    assert counts[201] == 10, counts
    assert counts[201] + counts[409] + counts[422] == THREADS, counts
    assert set(codes) <= {"insufficient_points", "conflict"}, Counter(codes)
    with schema_context("alpha"):
        fresh = Member.objects.get(pk=member.pk)
        assert (fresh.available, fresh.lifetime) == (0, BALANCE)
        assert member_ledger_verify(member=fresh) == []
        redeems = LedgerEntry.objects.filter(member=member, kind="redeem")
        assert redeems.count() == 10
        # Each success saw the balance left by the one before it: 900, 800, ..., 0, never below.
        assert sorted(redeems.values_list("balance_after", flat=True)) == list(range(0, BALANCE, COST))
        assert Redemption.objects.filter(member=member, status="completed").count() == 10
