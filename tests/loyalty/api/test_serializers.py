"""The points endpoints' serializers share their field objects across instances (SharedFieldsOutput and
SharedFieldsInput): their output and validation must stay exactly DRF's own."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from apps.loyalty import selectors, services
from apps.loyalty.api import serializers as s
from apps.loyalty.selectors import ledger_history
from tests.factories.loyalty import TierFactory


def _json(data: object) -> object:
    return json.loads(JSONRenderer().render(data))


def _generic(serializer_class: type, instance: object) -> object:
    """DRF's own rendering: fields built for this instance (what the shared fields replace)."""
    return _json(serializers.Serializer.to_representation(serializer_class(), instance))


def test_ledger_entries_render_as_drf_renders_them(program, member, award):
    # given credits and debits of several kinds, fresh and read back with ``remaining``
    credit = award(member, 50, order_id="A-1")
    deduct = services.points_deduct(member=member, points=5, reason="fix", idempotency_key="d")
    reward = services.reward_create(program=program, name="Mug", points_cost=10)
    redemption = services.points_redeem(member=member, reward=reward, idempotency_key="r")
    listed = list(ledger_history(member=member))
    # then each renders exactly as DRF's per-instance fields would
    for entry in [credit, deduct, *listed]:
        assert _json(s.LedgerEntryOutput(entry).data) == _generic(s.LedgerEntryOutput, entry)
    assert _json(s.LedgerEntryOutput(listed, many=True).data) == [_generic(s.LedgerEntryOutput, e) for e in listed]
    assert _json(s.RedemptionOutput(redemption).data) == _generic(s.RedemptionOutput, redemption)
    assert "remaining" in _json(s.LedgerEntryOutput(listed[-1]).data)
    assert "remaining" not in _json(s.LedgerEntryOutput(credit).data)  # DRF skips it when absent too


def test_balances_render_as_drf_renders_them(program, member, award):
    TierFactory(program=program, name="Silver", rank=1, threshold=Decimal("100"))
    award(member, 30)
    balance = selectors.member_balance(member=selectors.member_resolve(customer_id=member.customer_id))
    rendered = _json(s.PointsBalanceOutput(balance).data)
    assert rendered == _generic(s.PointsBalanceOutput, balance)
    assert rendered["tier"] is None and rendered["next_tier"] == "Silver"


@pytest.mark.parametrize("body", [
    {"customer_id": "C-1", "points": 5, "source": "campaign"},
    {"customer_id": "C-1", "points": 0},
    {"customer_id": "", "points": "x", "source": "nope", "pending_days": 999},
    {"points": 5},
    {"customer_id": "C-1", "points": 5, "program": "not-a-uuid"},
])
def test_input_validation_is_drfs_own(body):
    shared = s.PointsAwardInput(data=body)
    # the same fields, built per instance as DRF does
    plain_class = type("Plain", (serializers.Serializer,),
                       {name: copy.deepcopy(field) for name, field in s.PointsAwardInput._declared_fields.items()})
    plain = plain_class(data=body)
    assert shared.is_valid() == plain.is_valid()
    assert _json(shared.errors) == _json(plain.errors)
    if shared.is_valid():
        assert shared.validated_data == plain.validated_data


def test_a_redeem_without_reward_or_points_is_refused_by_its_validate(db):
    serializer = s.PointsRedeemInput(data={"customer_id": "C-1"})
    assert not serializer.is_valid()
    assert "reward" in serializer.errors
