"""Query budget of the hot ledger endpoints, called as bench/ledger.py calls them (JWT, Idempotency-Key), once
the process is warm (host, token user, program and tiers cached; search_path already set on the connection).

Each budget is the exact statement list of a request, pinned: a statement added (or removed) fails the test,
to be looked at, not bumped blindly. History: an award took 50 statements (25 of them ``SET search_path``),
then 21, now 8 in production (claim, savepoint, lock, key check, insert, update, release, complete); a
balance read 12, then 5, now 1; a redemption 58, then 25, now 12. In this test the request's transaction is a
savepoint inside the test's, which adds two statements to the writes.
"""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.services import auth_tokens_issue
from apps.loyalty import services
from apps.loyalty.models import LedgerEntry
from tests.conftest import TENANT_HOSTS
from tests.factories.accounts import UserFactory
from tests.factories.loyalty import TierFactory

TEST_SAVEPOINT = ["SAVEPOINT", "RELEASE SAVEPOINT"]  # the request's transaction, nested in the test's
AWARD = ["WITH lock AS", "SAVEPOINT", "SELECT loyalty_member", "SELECT loyalty_ledgerentry",
         "INSERT INTO loyalty_ledgerentry", "UPDATE loyalty_member", "RELEASE SAVEPOINT",
         "UPDATE core_idempotencyrecord"]
BALANCE = ["SELECT loyalty_member"]
REDEEM = ["WITH lock AS", "SELECT loyalty_reward", "SAVEPOINT", "SELECT loyalty_member",
          "SELECT loyalty_ledgerentry", "INSERT INTO loyalty_redemption", "SELECT loyalty_ledgerentry",
          "INSERT INTO loyalty_ledgerentry", "INSERT INTO loyalty_ledgerallocation", "UPDATE loyalty_member",
          "RELEASE SAVEPOINT", "UPDATE core_idempotencyrecord"]


@pytest.fixture
def client(tenant) -> APIClient:  # type: ignore[no-untyped-def]
    token = auth_tokens_issue(user=UserFactory(role="admin")).access
    return APIClient(HTTP_HOST=TENANT_HOSTS["alpha"], HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def warm(client):  # type: ignore[no-untyped-def]
    """A first request for the member: resolves and caches the host, the token's user, the program and its
    tiers, and leaves the tenant's search_path set on the connection, as a busy worker has them."""

    def warm_up(member) -> None:  # type: ignore[no-untyped-def]
        assert client.get(f"/api/loyalty-referral/points/{member.customer_id}").status_code == 200

    return warm_up


def _shapes(ctx: CaptureQueriesContext, name: str) -> list[str]:
    """Each statement's first words with the quotes dropped (``SELECT loyalty_member``, ``WITH lock AS``)."""
    statements = [query["sql"] for query in ctx.captured_queries]
    if os.environ.get("QUERY_DUMP"):  # QUERY_DUMP=1 pytest -s ... prints them, to find what to cut next
        print(f"\n==== {name}: {len(statements)} statements", *(f"    {sql[:150]}" for sql in statements), sep="\n")
    shapes = []
    for sql in statements:
        words = sql.replace('"', "").split()
        if words[0] == "SELECT":  # named after the table of its first column
            shapes.append(f"SELECT {words[1].split('.')[0] if '.' in words[1] else words[words.index('FROM') + 1]}")
        elif words[0] in ("INSERT", "UPDATE"):
            shapes.append(" ".join(words[:3] if words[0] == "INSERT" else words[:2]))
        elif words[0] == "RELEASE":
            shapes.append("RELEASE SAVEPOINT")
        else:
            shapes.append(" ".join(words[:3]) if words[0] == "WITH" else words[0])
    return shapes


def _nested(statements: list[str]) -> list[str]:
    return [TEST_SAVEPOINT[0], *statements, TEST_SAVEPOINT[1]]


def test_award_runs_its_eight_statements(client, member, warm):
    warm(member)
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/loyalty-referral/points/award",
                               {"customer_id": member.customer_id, "points": 5, "source": "campaign"},
                               format="json", HTTP_IDEMPOTENCY_KEY="budget-award")
    assert response.status_code == 201, response.content
    assert _shapes(ctx, "award") == _nested(AWARD)
    assert LedgerEntry.objects.filter(member=member, amount=5).count() == 1


def test_balance_read_runs_one_statement(client, member, award, warm):
    award(member, 7)
    warm(member)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/loyalty-referral/points/{member.customer_id}")
    assert response.status_code == 200
    assert response.json()["available"] == 7
    assert _shapes(ctx, "balance") == BALANCE


def test_balance_read_with_tiers_adds_only_the_qualifying_value(client, program, member, award, warm):
    TierFactory(program=program, name="Silver", rank=1, threshold=100)
    award(member, 7)
    warm(member)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/loyalty-referral/points/{member.customer_id}")
    assert response.json()["next_tier"] == "Silver"
    assert _shapes(ctx, "balance with tiers") == [*BALANCE, "SELECT loyalty_order"]  # spend-based tiers


def test_redemption_runs_its_twelve_statements(client, program, member, award, warm):
    award(member, 3)
    reward = services.reward_create(program=program, name="One", points_cost=1)
    warm(member)
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/loyalty-referral/points/redeem",
                               {"customer_id": member.customer_id, "reward": str(reward.pk)}, format="json",
                               HTTP_IDEMPOTENCY_KEY="budget-redeem")
    assert response.status_code == 201, response.content
    assert _shapes(ctx, "redeem") == _nested(REDEEM)


def test_a_replayed_award_runs_two_statements(client, member, warm):
    warm(member)
    body = {"customer_id": member.customer_id, "points": 5, "source": "campaign"}
    first = client.post("/api/loyalty-referral/points/award", body, format="json", HTTP_IDEMPOTENCY_KEY="again")
    with CaptureQueriesContext(connection) as ctx:
        replay = client.post("/api/loyalty-referral/points/award", body, format="json", HTTP_IDEMPOTENCY_KEY="again")
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert _shapes(ctx, "replay") == _nested(["WITH lock AS", "SELECT core_idempotencyrecord"])
