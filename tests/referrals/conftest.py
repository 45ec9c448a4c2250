from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from apps.loyalty.services import member_enroll, program_create
from apps.referrals.services import referral_signup
from tests.factories.referrals import ReferralCampaignFactory

_sequence = itertools.count()


@pytest.fixture
def program(tenant) -> Any:  # type: ignore[no-untyped-def]
    """An active USD program whose points are available at once (no pending period)."""
    return program_create(name="Rewards", status="active", currency="USD", pending_days=0)


@pytest.fixture
def other_program(tenant) -> Any:  # type: ignore[no-untyped-def]
    return program_create(name="Other rewards", status="active", currency="USD", pending_days=0)


@pytest.fixture
def make_member(program) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    def make(*, email: str | None = None, name: str = "Ana Souza", program: Any = program) -> Any:
        number = next(_sequence)
        return member_enroll(program=program, customer_id=f"cust-{uuid.uuid4().hex[:12]}",
                             email=email or f"member{number}-{uuid.uuid4().hex[:6]}@example.test", name=name)

    return make


@pytest.fixture
def campaign(program) -> Any:  # type: ignore[no-untyped-def]
    """500 points to the referrer, 250 to the referred, on a first purchase of at least 20 USD with a verified
    email; suspicious sign-ups (score ≥ 0.5) are flagged."""
    return ReferralCampaignFactory(program=program)


@pytest.fixture
def referral(campaign, make_member) -> Any:  # type: ignore[no-untyped-def]
    referral, _created = referral_signup(code=make_member().referral_code, referred_email="friend@example.test")
    return referral


@pytest.fixture
def reviewer(make_user) -> Any:  # type: ignore[no-untyped-def]
    return make_user(role="manager")


@pytest.fixture
def points_of() -> Callable[[Any], int]:
    """A member's points (available + pending), read fresh from the database."""

    def read(member: Any) -> int:
        member.refresh_from_db()
        return member.available + member.pending

    return read
