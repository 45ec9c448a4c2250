"""apps/loyalty/selectors.py: the per-process copies of the program a customer id is found in, and its tiers."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.core.errors import ApplicationError, NotFoundError
from apps.loyalty import selectors
from apps.loyalty.models import Program, Tier
from apps.loyalty.services import program_update, tier_create
from tests.factories.loyalty import ProgramFactory, member_make


def _program_reads(captured) -> int:  # type: ignore[no-untyped-def]
    return sum(query["sql"].startswith('SELECT "loyalty_program"') for query in captured.captured_queries)


def test_the_only_program_is_read_once_within_the_ttl(tenant):
    program = ProgramFactory()
    with CaptureQueriesContext(connection) as first:
        assert selectors.program_resolve_cached(program_id=None).pk == program.pk
    with CaptureQueriesContext(connection) as second:
        assert selectors.program_resolve_cached(program_id=str(program.pk)).pk == program.pk  # by id: its own key
        assert selectors.program_resolve_cached(program_id=None).pk == program.pk
    assert _program_reads(first) == 1
    assert _program_reads(second) == 1


def test_each_caller_gets_its_own_copy(tenant):
    ProgramFactory()
    first = selectors.program_resolve_cached(program_id=None)
    first.name = "changed by a caller"
    assert selectors.program_resolve_cached(program_id=None).name != "changed by a caller"


def test_a_second_program_is_seen_at_once_in_this_process(tenant):
    ProgramFactory()
    selectors.program_resolve_cached(program_id=None)
    ProgramFactory()
    with pytest.raises(ApplicationError) as refused:
        selectors.program_resolve_cached(program_id=None)
    assert refused.value.code == "program_required"


def test_an_edited_program_is_seen_at_once_in_this_process(tenant):
    program = ProgramFactory(currency="USD")
    selectors.program_resolve_cached(program_id=program.pk)
    program_update(program=program, currency="EUR")
    assert selectors.program_resolve_cached(program_id=program.pk).currency == "EUR"


def test_a_change_made_elsewhere_is_seen_within_the_ttl(tenant, settings, monkeypatch):
    clock = [9000.0]
    monkeypatch.setattr("apps.core.local_cache.time.monotonic", lambda: clock[0])
    program = ProgramFactory(currency="USD")
    selectors.program_resolve_cached(program_id=program.pk)
    Program.objects.filter(pk=program.pk).update(currency="EUR")  # no signal: as another process's write
    assert selectors.program_resolve_cached(program_id=program.pk).currency == "USD"
    clock[0] += settings.LOYALTY_PROGRAM_CACHE_SECONDS + 0.1
    assert selectors.program_resolve_cached(program_id=program.pk).currency == "EUR"


def test_programs_are_kept_per_tenant(tenant):
    alpha = ProgramFactory(name="Alpha")
    assert selectors.program_resolve_cached(program_id=None).pk == alpha.pk
    with schema_context("beta"):
        beta = ProgramFactory(name="Beta")
        assert selectors.program_resolve_cached(program_id=None).pk == beta.pk
        with pytest.raises(NotFoundError):
            selectors.program_resolve_cached(program_id=alpha.pk)  # alpha's id means nothing in beta


def test_a_missing_program_is_refused_and_not_remembered(tenant):
    with pytest.raises(NotFoundError):
        selectors.program_resolve_cached(program_id=None)
    program = ProgramFactory()
    assert selectors.program_resolve_cached(program_id=None).pk == program.pk


def test_tiers_are_cached_per_program_and_follow_their_edits(tenant):
    program = ProgramFactory()
    assert selectors.program_tiers(program_id=program.pk) == []
    tier_create(program=program, name="Silver", rank=1, threshold=100)
    assert [tier.name for tier in selectors.program_tiers(program_id=program.pk)] == ["Silver"]
    Tier.objects.get(program=program).delete()
    assert selectors.program_tiers(program_id=program.pk) == []


def test_member_resolve_reads_one_row_once_the_program_is_known(tenant):
    program = ProgramFactory()
    member = member_make(program)
    selectors.member_resolve(customer_id=member.customer_id)
    with CaptureQueriesContext(connection) as ctx:
        found = selectors.member_resolve(customer_id=member.customer_id)
    assert found.pk == member.pk and found.program.pk == program.pk
    assert len(ctx.captured_queries) == 1
    with pytest.raises(NotFoundError):
        selectors.member_resolve(customer_id="nobody")
