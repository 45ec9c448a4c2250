"""Loyalty test data. Members and balances are made through the services, so ledgers are always real."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal
from typing import Any

import factory

from apps.loyalty.models import EarnRule, Program, Reward, Tier
from apps.loyalty.services import member_enroll

_customers = itertools.count(1)


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")
    status = Program.Status.ACTIVE
    currency = "USD"
    pending_days = 0


class TierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tier

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    rank = factory.Sequence(lambda n: n)
    threshold = Decimal("0")


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Reward {n}")
    type = Reward.Type.DISCOUNT
    points_cost = 100
    value = Decimal("5.00")


class EarnRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EarnRule

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Rule {n}")
    event = EarnRule.Event.PURCHASE
    calculation = EarnRule.Calculation.PER_CURRENCY_UNIT
    points_per_unit = Decimal("1")


def member_make(program: Program, **kwargs: Any) -> Any:
    """Enrol a new member (through the service: referral code, sign-up rules)."""
    number = next(_customers)
    kwargs.setdefault("customer_id", f"cust-{number}-{uuid.uuid4().hex[:6]}")
    kwargs.setdefault("email", f"member{number}@example.test")
    kwargs.setdefault("name", f"Member {number}")
    return member_enroll(program=program, **kwargs)
