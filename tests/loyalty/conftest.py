from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest

from apps.loyalty import services
from apps.loyalty.models import Member, Program
from apps.loyalty.selectors import member_ledger_verify
from tests.factories.loyalty import ProgramFactory, member_make

_keys = itertools.count(1)


@pytest.fixture
def program(tenant) -> Program:  # type: ignore[no-untyped-def]
    """An active USD program: points available at once, no expiry, no tiers, no earn rules."""
    return ProgramFactory()


@pytest.fixture
def make_member(program) -> Callable[..., Member]:  # type: ignore[no-untyped-def]
    def make(**kwargs: Any) -> Member:
        return member_make(kwargs.pop("program", program), **kwargs)

    return make


@pytest.fixture
def member(make_member) -> Member:  # type: ignore[no-untyped-def]
    return make_member()


@pytest.fixture
def key() -> Callable[[], str]:
    """A fresh idempotency key."""
    return lambda: f"test-key-{next(_keys)}"


@pytest.fixture
def award(key) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    def give(member: Member, points: int, **kwargs: Any) -> Any:
        kwargs.setdefault("source", "purchase")
        return services.points_award(member=member, points=points, idempotency_key=kwargs.pop("key", key()),
                                     **kwargs)

    return give


@pytest.fixture
def consistent() -> Callable[[Member], Member]:
    """Assert the member's balances agree with its ledger; returns the member refreshed."""

    def check(member: Member) -> Member:
        assert member_ledger_verify(member=member) == []
        member.refresh_from_db()
        return member

    return check
