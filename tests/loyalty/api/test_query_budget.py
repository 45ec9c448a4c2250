"""Query budget of the hot ledger endpoints, called as bench/ledger.py calls them (JWT, Idempotency-Key).

Before the performance work an award took 50 statements here (25 of them ``SET search_path``), a balance read
12 and a redemption 58. A budget that grows again is a regression worth a look, not a number to bump blindly.
In this test the request's transaction is a savepoint inside the test's, which adds two statements."""

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

AWARD_BUDGET = 21
BALANCE_BUDGET = 5
REDEEM_BUDGET = 25


@pytest.fixture
def client(tenant) -> APIClient:  # type: ignore[no-untyped-def]
    token = auth_tokens_issue(user=UserFactory(role="admin")).access
    client = APIClient(HTTP_HOST=TENANT_HOSTS["alpha"], HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get("/api/loyalty-referral/programs")  # first request: resolves and caches the host
    return client


def _statements(ctx: CaptureQueriesContext, name: str) -> list[str]:
    statements = [query["sql"] for query in ctx.captured_queries]
    if os.environ.get("QUERY_DUMP"):  # QUERY_DUMP=1 pytest -s ... prints them, to find what to cut next
        print(f"\n==== {name}: {len(statements)} statements", *(f"    {sql[:150]}" for sql in statements), sep="\n")
    return statements


def _search_path_sets(statements: list[str]) -> int:
    return sum(sql.startswith("SET search_path") for sql in statements)


def test_award_stays_within_its_query_budget(client, member):
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/loyalty-referral/points/award",
                               {"customer_id": member.customer_id, "points": 5, "source": "campaign"},
                               format="json", HTTP_IDEMPOTENCY_KEY="budget-award")
    assert response.status_code == 201, response.content
    statements = _statements(ctx, "award")
    assert len(statements) <= AWARD_BUDGET
    assert _search_path_sets(statements) == 1
    assert not any('FROM "tenants_domain"' in sql for sql in statements)  # host cached
    assert not any("oauth2_provider_accesstoken" in sql for sql in statements)  # a JWT is not an OAuth token
    assert LedgerEntry.objects.filter(member=member, amount=5).count() == 1


def test_balance_read_stays_within_its_query_budget(client, member, award):
    award(member, 7)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(f"/api/loyalty-referral/points/{member.customer_id}")
    assert response.status_code == 200
    assert response.json()["available"] == 7
    statements = _statements(ctx, "balance")
    assert len(statements) <= BALANCE_BUDGET
    assert _search_path_sets(statements) == 1


def test_redemption_stays_within_its_query_budget(client, program, member, award):
    award(member, 3)
    reward = services.reward_create(program=program, name="One", points_cost=1)
    with CaptureQueriesContext(connection) as ctx:
        response = client.post("/api/loyalty-referral/points/redeem",
                               {"customer_id": member.customer_id, "reward": str(reward.pk)}, format="json",
                               HTTP_IDEMPOTENCY_KEY="budget-redeem")
    assert response.status_code == 201, response.content
    statements = _statements(ctx, "redeem")
    assert len(statements) <= REDEEM_BUDGET
    assert _search_path_sets(statements) == 1
