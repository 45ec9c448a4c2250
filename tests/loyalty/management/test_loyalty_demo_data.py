from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from apps.loyalty.models import LedgerEntry, Member, Order, Program, Reward
from apps.loyalty.selectors import member_ledger_verify


def test_demo_data_builds_a_consistent_program_history(tenant):
    out = StringIO()
    call_command("loyalty_demo_data", "--schema", "alpha", "--members", "40", "--seed", "3", stdout=out)

    program = Program.objects.get()
    assert list(program.tiers.order_by("rank").values_list("name", flat=True)) == ["Bronze", "Silver", "Gold"]
    assert Reward.objects.filter(program=program).count() >= 5
    assert Member.objects.filter(program=program).count() == 40
    assert Order.objects.filter(program=program).count() > 40
    assert LedgerEntry.objects.filter(kind="earn", source="signup").count() == 40
    assert all(member_ledger_verify(member=member) == [] for member in Member.objects.all())
    assert not Member.objects.filter(tier__isnull=True).exists()
    assert "40 members" in out.getvalue()

    call_command("loyalty_demo_data", "--schema", "alpha", "--members", "5", "--if-empty", stdout=out)
    assert Program.objects.count() == 1
    assert "nothing done" in out.getvalue()


def test_demo_data_refuses_an_unknown_schema(tenant):
    with pytest.raises(CommandError):
        call_command("loyalty_demo_data", "--schema", "nope", "--members", "1")
