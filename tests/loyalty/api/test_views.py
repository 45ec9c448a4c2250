from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.loyalty import services
from apps.loyalty.models import LedgerEntry, Member, Order, Program, Reward
from tests.factories.loyalty import EarnRuleFactory, ProgramFactory, RewardFactory, TierFactory, member_make

BASE = "/api/loyalty-referral"


def error_code(response):
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    return body["error"]["code"]


@pytest.fixture
def admin(api_client):
    return api_client("admin")


# ---------------------------------------------------------------------------------------------- programs

def test_program_crud(admin):
    created = admin.post(f"{BASE}/programs", {"name": "Club", "currency": "eur", "status": "active",
                                               "pending_days": 3}, format="json")
    assert created.status_code == 201, created.content
    program_id = created.json()["id"]
    assert created.json()["currency"] == "EUR"

    listed = admin.get(f"{BASE}/programs")
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [program_id]

    updated = admin.put(f"{BASE}/programs/{program_id}", {"status": "paused"}, format="json")
    assert (updated.status_code, updated.json()["status"], updated.json()["pending_days"]) == (200, "paused", 3)

    assert admin.get(f"{BASE}/programs/{program_id}").json()["name"] == "Club"
    assert admin.delete(f"{BASE}/programs/{program_id}").status_code == 204
    assert admin.get(f"{BASE}/programs/{program_id}").status_code == 404


def test_program_create_validates(admin):
    response = admin.post(f"{BASE}/programs", {"name": "", "type": "nope", "currency": "EURO"}, format="json")
    assert response.status_code == 400
    assert error_code(response) == "invalid"
    assert {"name", "type", "currency"} <= set(response.json()["error"]["fields"])
    assert not Program.objects.exists()


def test_program_with_members_cannot_be_deleted(admin, tenant):
    program = ProgramFactory()
    member_make(program)
    response = admin.delete(f"{BASE}/programs/{program.pk}")
    assert (response.status_code, error_code(response)) == (409, "program_has_members")
    assert Program.objects.filter(pk=program.pk).exists()


def test_programs_of_another_tenant_are_invisible(admin, other_tenant):
    with schema_context("beta"):
        foreign = ProgramFactory()
    assert admin.get(f"{BASE}/programs/{foreign.pk}").status_code == 404
    assert admin.get(f"{BASE}/programs").json()["results"] == []


@pytest.mark.parametrize(("role", "method", "expected"), [
    (None, "get", 401), ("participant", "get", 403), ("analyst", "get", 200), ("analyst", "post", 403),
    ("manager", "post", 201),
])
def test_program_permissions(api_client, role, method, expected):
    client = api_client(role)
    response = getattr(client, method)(f"{BASE}/programs", {"name": "P"} if method == "post" else None,
                                       format="json")
    assert response.status_code == expected
    if expected >= 400:
        error_code(response)
        assert not Program.objects.filter(name="P").exists()


# ---------------------------------------------------------------------------------------------- points

@pytest.fixture
def program(tenant):
    return ProgramFactory()


@pytest.fixture
def member(program):
    return member_make(program, customer_id="C-1")


def test_award_and_balance_and_history(admin, member):
    response = admin.post(f"{BASE}/points/award", {"customer_id": "C-1", "points": 150, "source": "review",
                                                   "reason": "great review"}, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["amount"], response.json()["balance_after"]) == (150, 150)

    balance = admin.get(f"{BASE}/points/C-1")
    assert balance.status_code == 200
    assert (balance.json()["available"], balance.json()["lifetime"], balance.json()["value"]) == (150, 150, "1.50")

    history = admin.get(f"{BASE}/points/history/C-1")
    assert history.status_code == 200
    rows = history.json()["results"]
    assert [(row["kind"], row["amount"], row["remaining"]) for row in rows] == [("earn", 150, 150)]
    assert admin.get(f"{BASE}/points/history/C-1", {"kind": "redeem"}).json()["results"] == []


def test_award_replay_with_idempotency_key_credits_once(admin, member):
    body = {"customer_id": "C-1", "points": 40, "source": "campaign"}
    first = admin.post(f"{BASE}/points/award", body, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    second = admin.post(f"{BASE}/points/award", body, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["id"] == first.json()["id"]
    assert second.headers.get("Idempotent-Replayed") == "true"
    other = admin.post(f"{BASE}/points/award", {**body, "points": 41}, format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert (other.status_code, error_code(other)) == (409, "idempotency_key_reused")
    member.refresh_from_db()
    assert member.available == 40


def test_award_to_unknown_customer_is_404_and_writes_nothing(admin, member):
    response = admin.post(f"{BASE}/points/award", {"customer_id": "nobody", "points": 5}, format="json")
    assert (response.status_code, error_code(response)) == (404, "member_not_found")
    assert not LedgerEntry.objects.exists()


def test_award_validation(admin, member):
    response = admin.post(f"{BASE}/points/award", {"customer_id": "C-1", "points": 0, "source": "x"}, format="json")
    assert response.status_code == 400
    assert {"points", "source"} <= set(response.json()["error"]["fields"])
    manual = admin.post(f"{BASE}/points/award", {"customer_id": "C-1", "points": 5, "source": "manual"},
                        format="json")
    assert manual.status_code == 400
    assert "reason" in manual.json()["error"]["fields"]
    assert not LedgerEntry.objects.exists()


def test_customer_id_is_ambiguous_with_several_programs(admin, member):
    other = ProgramFactory()
    member_make(other, customer_id="C-1")
    response = admin.get(f"{BASE}/points/C-1")
    assert (response.status_code, error_code(response)) == (400, "program_required")
    chosen = admin.get(f"{BASE}/points/C-1", {"program": str(other.pk)})
    assert chosen.status_code == 200
    assert chosen.json()["program"] == str(other.pk)
    assert admin.get(f"{BASE}/points/C-1", {"program": "nope"}).status_code == 400


def test_deduct_more_than_available_is_422(admin, member):
    admin.post(f"{BASE}/points/award", {"customer_id": "C-1", "points": 10, "source": "campaign"}, format="json")
    response = admin.post(f"{BASE}/points/deduct", {"customer_id": "C-1", "points": 11, "reason": "x"},
                          format="json")
    assert (response.status_code, error_code(response)) == (422, "insufficient_points")
    ok = admin.post(f"{BASE}/points/deduct", {"customer_id": "C-1", "points": 4, "reason": "fix"}, format="json")
    assert (ok.status_code, ok.json()["amount"]) == (201, -4)


def test_redeem_a_reward(admin, member, program):
    reward = RewardFactory(program=program, points_cost=100, stock_limited=True, stock_available=1)
    admin.post(f"{BASE}/points/award", {"customer_id": "C-1", "points": 250, "source": "campaign"}, format="json")
    response = admin.post(f"{BASE}/points/redeem", {"customer_id": "C-1", "reward": str(reward.pk)}, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["points"], len(response.json()["code"])) == ("completed",
                                                                                                     100, 12)
    again = admin.post(f"{BASE}/points/redeem", {"customer_id": "C-1", "reward": str(reward.pk)}, format="json")
    assert (again.status_code, error_code(again)) == (409, "out_of_stock")
    member.refresh_from_db()
    assert member.available == 150


def test_redeem_needs_a_reward_or_points(admin, member):
    response = admin.post(f"{BASE}/points/redeem", {"customer_id": "C-1"}, format="json")
    assert response.status_code == 400
    assert admin.post(f"{BASE}/points/redeem", {"customer_id": "C-1", "reward": "7c1d9a53-3f55-4a5e-8f0c-"
                                                "3c6d7f2b9a10"}, format="json").status_code == 404


def test_award_bulk_is_all_or_nothing(admin, program):
    member_make(program, customer_id="A")
    member_make(program, customer_id="B")
    missing = admin.post(f"{BASE}/points/award-bulk", {"awards": [{"customer_id": "A", "points": 5},
                                                                  {"customer_id": "Z", "points": 5}]}, format="json")
    assert (missing.status_code, error_code(missing)) == (404, "member_not_found")
    assert not LedgerEntry.objects.exists()
    body = {"awards": [{"customer_id": "A", "points": 5, "key": "k1"}, {"customer_id": "B", "points": 7, "key": "k2"}]}
    done = admin.post(f"{BASE}/points/award-bulk", body, format="json")
    assert (done.status_code, done.json()["count"]) == (201, 2)
    admin.post(f"{BASE}/points/award-bulk", body, format="json")  # per-award keys: credits nothing more
    assert sorted(Member.objects.values_list("available", flat=True)) == [5, 7]


def test_transfer_between_members(admin, program):
    program.transfers_enabled = True
    program.save()
    member_make(program, customer_id="A")
    member_make(program, customer_id="B")
    admin.post(f"{BASE}/points/award", {"customer_id": "A", "points": 30, "source": "campaign"}, format="json")
    response = admin.post(f"{BASE}/points/transfer", {"from_customer_id": "A", "to_customer_id": "B",
                                                      "points": 12}, format="json")
    assert response.status_code == 201, response.content
    assert dict(Member.objects.values_list("customer_id", "available")) == {"A": 18, "B": 12}


# ---------------------------------------------------------------------------------------------- members

def test_member_enrol_list_update_and_events(admin, program):
    EarnRuleFactory(program=program, event="signup", calculation="fixed", fixed_points=20)
    EarnRuleFactory(program=program, event="birthday", calculation="fixed", fixed_points=100)
    body = {"customer_id": "new-1", "email": "Ana@Example.test", "name": "Ana", "consents": {"email": True}}
    created = admin.post(f"{BASE}/members", body, format="json")
    assert created.status_code == 201, created.content
    member = created.json()
    assert (member["email"], member["available"], member["consent_email"]) == ("ana@example.test", 20, True)
    assert len(member["referral_code"]) == 8
    assert admin.post(f"{BASE}/members", body, format="json").status_code == 200

    assert admin.get(f"{BASE}/members", {"search": "ana"}).json()["count"] == 1
    assert admin.get(f"{BASE}/members", {"min_available": 21}).json()["count"] == 0
    updated = admin.put(f"{BASE}/members/{member['id']}", {"name": "Ana Souza", "consents": {"sms": True}},
                        format="json")
    assert (updated.json()["name"], updated.json()["consent_sms"], updated.json()["consent_email"]) == (
        "Ana Souza", True, True)

    event = admin.post(f"{BASE}/members/{member['id']}/events", {"event": "birthday", "key": "2026"}, format="json")
    assert event.status_code == 201
    admin.post(f"{BASE}/members/{member['id']}/events", {"event": "birthday", "key": "2026"}, format="json")
    assert Member.objects.get(pk=member["id"]).available == 120


# ---------------------------------------------------------------------------------------------- configuration

def test_tier_earn_rule_and_reward_crud(admin, program):
    tier = admin.post(f"{BASE}/tiers", {"name": "Gold", "rank": 2, "threshold": "500", "points_multiplier": "2"},
                      format="json")
    assert tier.status_code == 201, tier.content
    duplicate = admin.post(f"{BASE}/tiers", {"name": "Gold", "rank": 3, "threshold": "900"}, format="json")
    assert duplicate.status_code == 400

    rule = admin.post(f"{BASE}/earn-rules", {
        "name": "Base", "points_per_unit": "1.5", "exclude_delivery": True,
        "multipliers": [{"scope": "label", "value": "promo", "multiplier": "2"},
                        {"scope": "tier", "tier": tier.json()["id"], "multiplier": "1.2"}],
        "exclusions": [{"scope": "sku", "value": "GIFT"}],
    }, format="json")
    assert rule.status_code == 201, rule.content
    assert len(rule.json()["multipliers"]) == 2
    changed = admin.put(f"{BASE}/earn-rules/{rule.json()['id']}", {"exclusions": []}, format="json")
    assert (changed.json()["exclusions"], len(changed.json()["multipliers"])) == ([], 2)

    reward = admin.post(f"{BASE}/rewards", {"name": "Mug", "type": "free_product", "points_cost": 300,
                                            "stock_limited": True, "stock_available": 0,
                                            "excluded_skus": ["X"]}, format="json")
    assert reward.status_code == 201, reward.content
    restocked = admin.post(f"{BASE}/rewards/{reward.json()['id']}/restock", {"quantity": 5}, format="json")
    assert (restocked.status_code, restocked.json()["stock_available"]) == (200, 5)
    assert admin.get(f"{BASE}/rewards", {"in_stock": "true"}).json()["count"] == 1
    assert admin.delete(f"{BASE}/rewards/{reward.json()['id']}").status_code == 204
    assert not Reward.objects.exists()


def test_earn_rule_that_awarded_cannot_be_deleted(admin, program, member):
    rule = EarnRuleFactory(program=program)
    order = admin.post(f"{BASE}/orders", {"customer_id": "C-1", "order_id": "o1",
                                          "lines": [{"sku": "A", "quantity": 1, "unit_price": "10"}]}, format="json")
    assert order.status_code == 201
    response = admin.delete(f"{BASE}/earn-rules/{rule.pk}")
    assert (response.status_code, error_code(response)) == (409, "in_use")


# ---------------------------------------------------------------------------------------------- redemptions and orders

def test_redemption_reserve_complete_cancel(admin, program, member):
    reward = RewardFactory(program=program, points_cost=50)
    admin.post(f"{BASE}/points/award", {"customer_id": "C-1", "points": 120, "source": "campaign"}, format="json")
    first = admin.post(f"{BASE}/redemptions", {"customer_id": "C-1", "reward": str(reward.pk)}, format="json")
    second = admin.post(f"{BASE}/redemptions", {"customer_id": "C-1", "points": 60}, format="json")
    assert (first.status_code, first.json()["status"]) == (201, "reserved")
    poor = admin.post(f"{BASE}/redemptions", {"customer_id": "C-1", "points": 11}, format="json")
    assert (poor.status_code, error_code(poor)) == (422, "insufficient_points")

    done = admin.post(f"{BASE}/redemptions/{first.json()['id']}/complete")
    assert (done.status_code, done.json()["status"]) == (200, "completed")
    cancelled = admin.post(f"{BASE}/redemptions/{second.json()['id']}/cancel", {"reason": "no"}, format="json")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    refused = admin.post(f"{BASE}/redemptions/{first.json()['id']}/cancel", {}, format="json")
    assert (refused.status_code, error_code(refused)) == (409, "redemption_completed")
    member.refresh_from_db()
    assert member.available == 70
    listed = admin.get(f"{BASE}/redemptions", {"status": "cancelled"})
    assert [row["id"] for row in listed.json()["results"]] == [second.json()["id"]]


def test_order_record_and_refund(admin, program, member):
    EarnRuleFactory(program=program, points_per_unit=Decimal("1"))
    TierFactory(program=program, name="Silver", rank=1, threshold=Decimal("50"))
    body = {"customer_id": "C-1", "order_id": "W-1", "delivery_cost": "4.90",
            "lines": [{"sku": "A", "quantity": 2, "unit_price": "20"}, {"sku": "B", "quantity": 1, "unit_price": "15"}]}
    created = admin.post(f"{BASE}/orders", body, format="json")
    assert created.status_code == 201, created.content
    order = created.json()
    assert (order["total"], order["points_earned"]) == ("59.90", 55)
    assert admin.post(f"{BASE}/orders", body, format="json").json()["id"] == order["id"]

    line_a = next(line for line in order["lines"] if line["sku"] == "A")
    refund = admin.post(f"{BASE}/orders/{order['id']}/refunds",
                        {"refund_id": "R-1", "lines": [{"line": line_a["id"], "quantity": 2}]}, format="json")
    assert (refund.status_code, refund.json()["points_reversed"]) == (201, 40)
    too_many = admin.post(f"{BASE}/orders/{order['id']}/refunds",
                          {"refund_id": "R-2", "lines": [{"sku": "A", "quantity": 1}]}, format="json")
    assert (too_many.status_code, error_code(too_many)) == (422, "refund_exceeds_quantity")
    member.refresh_from_db()
    assert (member.available, member.tier) == (15, None)
    assert admin.get(f"{BASE}/orders", {"status": "partially_refunded"}).json()["count"] == 1


def test_order_in_a_paused_program_is_422(admin, program, member):
    Program.objects.filter(pk=program.pk).update(status="paused")
    response = admin.post(f"{BASE}/orders", {"customer_id": "C-1", "order_id": "o",
                                             "lines": [{"sku": "A", "quantity": 1, "unit_price": "1"}]},
                          format="json")
    assert (response.status_code, error_code(response)) == (422, "program_not_active")
    assert not Order.objects.exists()


def test_openapi_documents_the_loyalty_endpoints_with_tags(admin):
    schema = admin.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    paths = schema["paths"]
    expected = {
        ("post", "/api/loyalty-referral/programs"), ("get", "/api/loyalty-referral/programs"),
        ("get", "/api/loyalty-referral/programs/{id}"), ("put", "/api/loyalty-referral/programs/{id}"),
        ("delete", "/api/loyalty-referral/programs/{id}"), ("post", "/api/loyalty-referral/points/award"),
        ("post", "/api/loyalty-referral/points/deduct"), ("get", "/api/loyalty-referral/points/{customer_id}"),
        ("get", "/api/loyalty-referral/points/history/{customer_id}"), ("post", "/api/loyalty-referral/points/redeem"),
    }
    assert all(method in paths.get(path, {}) for method, path in expected)
    assert paths["/api/loyalty-referral/programs"]["post"]["tags"] == ["Loyalty Programs Management"]
    award = paths["/api/loyalty-referral/points/award"]["post"]
    assert award["tags"] == ["Points Management"]
    assert any(p["name"] == "Idempotency-Key" for p in award["parameters"])
    assert {"201", "400", "401", "403", "409", "422"} <= set(award["responses"])


def test_balance_shows_tier_progress_and_points_expiring_soon(admin, program, member):
    program.expiration_enabled, program.expiry_warning_days = True, 30
    program.save()
    TierFactory(program=program, name="Bronze", rank=0, threshold=Decimal("0"))
    TierFactory(program=program, name="Silver", rank=1, threshold=Decimal("100"))
    soon = timezone.now() + timedelta(days=5)
    services.points_award(member=member, points=40, source="campaign", idempotency_key="s", expires_at=soon)
    services.points_award(member=member, points=60, source="campaign", idempotency_key="l",
                          expires_at=timezone.now() + timedelta(days=200))
    services.member_tier_recalculate(member_id=member.pk)
    body = admin.get(f"{BASE}/points/C-1").json()
    assert (body["available"], body["expiring_points"], body["tier"], body["next_tier"]) == (100, 40, "Bronze",
                                                                                             "Silver")
    assert body["to_next_tier"] == "100.00"
    assert body["expiring_at"].startswith(soon.date().isoformat())
