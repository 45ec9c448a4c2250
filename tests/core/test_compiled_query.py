"""apps/core/compiled_query.py: querysets compiled once, and prepared row writes, give what the ORM gives."""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_save
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.core.compiled_query import CompiledQuery, row_insert, row_update
from apps.loyalty.models import Member, Redemption, Tier
from tests.factories.loyalty import ProgramFactory, TierFactory, member_make


def _fields(obj: object) -> dict:
    return {field.attname: getattr(obj, field.attname) for field in type(obj)._meta.concrete_fields}


@pytest.fixture
def by_customer() -> CompiledQuery:
    return CompiledQuery(lambda program_id, customer_id: Member.objects.filter(
        program_id=program_id, customer_id=customer_id).select_related("program", "tier").annotate(
        has_tier_rows=Exists(Tier.objects.filter(program_id=OuterRef("program_id")))).order_by()[:1])


def test_a_compiled_query_returns_what_the_orm_returns(tenant, by_customer):
    # given a member with a tier (a select_related object) and one without
    program = ProgramFactory()
    tier = TierFactory(program=program, name="Gold", rank=1)
    with_tier, without = member_make(program), member_make(program)
    Member.objects.filter(pk=with_tier.pk).update(tier=tier)

    for member in (with_tier, without):
        compiled = by_customer.first(program_id=program.pk, customer_id=member.customer_id)
        orm = Member.objects.select_related("program", "tier").get(pk=member.pk)
        # then the row, its related objects and the annotation are the ORM's
        assert _fields(compiled) == _fields(orm)
        assert _fields(compiled.program) == _fields(orm.program)
        assert (compiled.tier and _fields(compiled.tier)) == (orm.tier and _fields(orm.tier))
        assert compiled.has_tier_rows is True
        assert compiled._state.adding is False and compiled._state.db == "default"
    assert by_customer.first(program_id=program.pk, customer_id="nobody") is None


def test_one_compilation_serves_every_tenant(tenant, by_customer):
    program = ProgramFactory()
    alpha_member = member_make(program, customer_id="SAME")
    assert by_customer.first(program_id=program.pk, customer_id="SAME").pk == alpha_member.pk
    with schema_context("beta"):
        beta_program = ProgramFactory()
        beta_member = member_make(beta_program, customer_id="SAME")
        assert by_customer.first(program_id=beta_program.pk, customer_id="SAME").pk == beta_member.pk
        assert by_customer.first(program_id=program.pk, customer_id="SAME") is None  # alpha's program


def test_the_sql_is_compiled_once(tenant, by_customer, monkeypatch):
    program = ProgramFactory()
    by_customer.first(program_id=program.pk, customer_id="x")
    compiles = []
    monkeypatch.setattr("apps.core.compiled_query._Compiled.__init__",
                        lambda *args: compiles.append(args) or pytest.fail("compiled again"))
    with CaptureQueriesContext(connection) as ctx:
        by_customer.first(program_id=program.pk, customer_id="y")
    assert compiles == [] and len(ctx.captured_queries) == 1


def test_an_argument_whose_place_cannot_be_found_is_refused(tenant):
    twice = CompiledQuery(lambda code: Member.objects.filter(customer_id=code, referral_code=code))
    with pytest.raises(ValueError, match="must appear once"):
        twice.run(code="A")


def test_a_locking_query_still_needs_a_transaction(tenant):
    locking = CompiledQuery(lambda member_id: Member.objects.select_for_update().filter(pk=member_id))
    member = member_make(ProgramFactory())
    assert locking.run(member_id=member.pk)[0].pk == member.pk  # compiled (inside the test's transaction)
    connection.in_atomic_block = False  # as in autocommit, outside any atomic block
    try:
        with pytest.raises(TransactionManagementError):
            locking.run(member_id=member.pk)
    finally:
        connection.in_atomic_block = True


def test_row_insert_and_update_write_what_save_writes(tenant):
    program = ProgramFactory()
    member = member_make(program)
    # when a redemption is inserted and updated through the prepared statements
    redemption = Redemption(program=program, member=member, code=uuid.uuid4().hex[:12], points=3, value="0.03",
                            currency="USD", status=Redemption.Status.RESERVED)
    row_insert(redemption)
    redemption.status = Redemption.Status.COMPLETED
    row_update(redemption, ["status", "updated_at"])
    # then the row reads back as saved, with the auto timestamps set
    stored = Redemption.objects.get(pk=redemption.pk)
    assert stored.status == Redemption.Status.COMPLETED and stored.points == 3
    assert stored.created_at is not None and stored.updated_at >= stored.created_at
    assert redemption._state.adding is False


def test_row_insert_raises_what_the_database_raises(tenant):
    member = member_make(ProgramFactory())
    duplicate = Member(program=member.program, customer_id=member.customer_id)  # (program, customer id) is unique
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(duplicate)
    assert duplicate._state.adding is True


def test_row_update_of_a_missing_row_fails_as_save_does(tenant):
    member = member_make(ProgramFactory())
    Member.objects.filter(pk=member.pk).delete()
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        row_update(member, ["available"])


def test_a_model_with_save_receivers_goes_through_save(tenant):
    seen = []

    def receiver(sender, instance, created, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(created)

    post_save.connect(receiver, sender=Redemption, dispatch_uid="test_compiled_query_receiver")
    try:
        program = ProgramFactory()
        redemption = Redemption(program=program, member=member_make(program), code="RECEIVER1234", points=1,
                                value="0.01", currency="USD")
        row_insert(redemption)
        row_update(redemption, ["points"])
    finally:
        post_save.disconnect(dispatch_uid="test_compiled_query_receiver", sender=Redemption)
    assert seen == [True, False]
