from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from apps.loyalty import services
from apps.loyalty.models import LedgerEntry, Program, Redemption, Reward
from tests.factories.loyalty import EarnRuleFactory, RewardFactory, TierFactory


@pytest.fixture
def staff_client(web_client, make_user):  # type: ignore[no-untyped-def]
    return web_client(user=make_user(role="owner", is_staff=True, is_superuser=True))


@pytest.fixture
def history(program, member, award):
    """A member with an order, a refund and a redemption: every loyalty table has rows."""
    EarnRuleFactory(program=program)
    TierFactory(program=program, name="Silver", rank=1, threshold=Decimal("10"))
    order = services.order_record(member=member, external_id="o-1", lines=[
        services.OrderLineInput(sku="A", quantity=2, unit_price=Decimal("30"))])
    services.order_refund(order=order, external_id="r-1", lines=[services.RefundLineInput(sku="A", quantity=1)])
    services.points_redeem(member=member, reward=RewardFactory(program=program, points_cost=10),
                           idempotency_key="redeem")
    return member


@pytest.mark.parametrize("model", [
    "program", "tier", "earnrule", "reward", "member", "ledgerentry", "ledgerallocation", "earnattribution",
    "order", "orderrefund", "redemption", "punchcardstamp", "loyaltynotification",
])
def test_changelists_and_change_pages_load(staff_client, history, model):
    listing = staff_client.get(f"/admin/loyalty/{model}/", {"q": history.customer_id})
    assert listing.status_code == 200
    assert staff_client.get(f"/admin/loyalty/{model}/", {"o": "1"}).status_code == 200


def test_member_page_shows_the_ledger_and_the_adjust_action(staff_client, history):
    page = staff_client.get(f"/admin/loyalty/member/{history.pk}/change/")
    assert page.status_code == 200
    assert f"/admin/loyalty/member/{history.pk}/adjust-points/" in page.content.decode()


def test_ledger_entries_cannot_be_added_changed_or_deleted(staff_client, history):
    entry = LedgerEntry.objects.filter(member=history).first()
    assert staff_client.get("/admin/loyalty/ledgerentry/add/").status_code == 403
    assert staff_client.get(f"/admin/loyalty/ledgerentry/{entry.pk}/delete/").status_code == 403
    view = staff_client.get(f"/admin/loyalty/ledgerentry/{entry.pk}/change/")
    assert view.status_code == 200  # view only
    staff_client.post(f"/admin/loyalty/ledgerentry/{entry.pk}/change/", {"amount": 999, "status": "cancelled"})
    entry.refresh_from_db()
    assert (entry.amount, entry.status) != (999, "cancelled")


@pytest.mark.parametrize(("points", "expected", "kind"), [(25, 125, "adjust"), (-40, 60, "adjust")])
def test_adjust_points_writes_a_new_entry_with_reason_and_actor(staff_client, member, award, points, expected,
                                                                kind, consistent):
    award(member, 100)
    response = staff_client.post(f"/admin/loyalty/member/{member.pk}/adjust-points/",
                                 {"points": points, "reason": "customer service", "_form_submitted": "on"})
    assert response.status_code == 302
    assert consistent(member).available == expected
    entry = LedgerEntry.objects.filter(member=member).order_by("-created_at").first()
    assert (entry.kind, entry.amount, entry.reason) == (kind, points, "customer service")
    assert entry.actor is not None


def test_adjust_points_refuses_overdrawing_and_writes_nothing(staff_client, member, award, consistent):
    award(member, 10)
    staff_client.post(f"/admin/loyalty/member/{member.pk}/adjust-points/",
                      {"points": -11, "reason": "oops", "_form_submitted": "on"})
    assert consistent(member).available == 10
    assert LedgerEntry.objects.filter(member=member).count() == 1


def test_adjust_points_needs_a_reason(staff_client, member):
    response = staff_client.post(f"/admin/loyalty/member/{member.pk}/adjust-points/",
                                 {"points": 5, "reason": "", "_form_submitted": "on"})
    assert response.status_code == 200  # the dialog again, with the error
    assert not LedgerEntry.objects.filter(member=member).exists()


def test_restock_detail_action_and_bulk_action(staff_client, program):
    reward = RewardFactory(program=program, stock_limited=True, stock_available=1)
    unlimited = RewardFactory(program=program)
    response = staff_client.post(f"/admin/loyalty/reward/{reward.pk}/restock/", {"quantity": 4,
                                                                                 "_form_submitted": "on"})
    assert response.status_code == 302
    reward.refresh_from_db()
    assert reward.stock_available == 5
    staff_client.post("/admin/loyalty/reward/", {"action": "restock_ten",
                                                 ACTION_CHECKBOX_NAME: [str(reward.pk), str(unlimited.pk)]})
    assert Reward.objects.get(pk=reward.pk).stock_available == 15


def test_program_created_and_deleted_through_the_services(staff_client, history):
    response = staff_client.post("/admin/loyalty/program/add/", {
        "name": "Admin club", "type": "points", "status": "draft", "currency": "USD", "min_redeem_points": 0,
        "points_value_per_100": "1.00", "reservation_minutes": 30, "expiration_months": 12,
        "expiry_warning_days": 30, "pending_days": 0, "tier_basis": "spend", "tier_downgrade_policy": "automatic",
        "tier_downgrade_after_days": 0, "refund_policy": "debt",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    created = Program.objects.get(name="Admin club")
    assert created.refund_policy == "debt"
    staff_client.post(f"/admin/loyalty/program/{history.program_id}/delete/", {"post": "yes"})
    assert Program.objects.filter(pk=history.program_id).exists()  # members: kept


def test_cancel_reserved_redemptions_action(staff_client, program, member, award, consistent):
    award(member, 50)
    redemption = services.redemption_reserve(member=member, points=50, idempotency_key="hold")
    staff_client.post("/admin/loyalty/redemption/", {"action": "cancel_reserved",
                                                     ACTION_CHECKBOX_NAME: [str(redemption.pk)]})
    assert Redemption.objects.get(pk=redemption.pk).status == "cancelled"
    assert consistent(member).available == 50
