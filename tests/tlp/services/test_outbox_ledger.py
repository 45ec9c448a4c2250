"""Loyalty ledger entries mirrored in TLP: the mapping to accrue / issue / redeem, delivery, reconciliation."""

from __future__ import annotations

import pytest
from django.db import transaction

from apps.core.errors import ApplicationError
from apps.loyalty.services import points_award, points_deduct, redemption_cancel, redemption_reserve
from apps.tlp.models import TLPOutbox
from apps.tlp.services import tlp_outbox_drain, tlp_outbox_enqueue_ledger_entry, tlp_reconcile
from apps.tlp.services.outbox import ledger_member_key
from tests.factories.loyalty import ProgramFactory, member_make


def test_entries_map_to_the_right_tlp_operation(tlp_configured):
    program = ProgramFactory(name="Acme Club")
    member = member_make(program)
    with transaction.atomic():
        earn = points_award(member=member, points=500, source="purchase", idempotency_key="earn-1")
        accrue = tlp_outbox_enqueue_ledger_entry(entry=earn)
    manual = points_award(member=member, points=40, source="manual", reason="goodwill", idempotency_key="adj-1")
    deduct = points_deduct(member=member, points=90, reason="correction", idempotency_key="ded-1")
    issue = tlp_outbox_enqueue_ledger_entry(entry=manual)
    redeem = tlp_outbox_enqueue_ledger_entry(entry=deduct)

    assert (accrue.operation, issue.operation, redeem.operation) == ("accrue", "issue", "redeem")
    assert accrue.member_key == ledger_member_key(member.pk)
    assert accrue.payload["point_type"] == {"key": f"loyalty-program:{program.pk}", "name": "Acme Club"}
    assert (accrue.payload["points"], redeem.payload["points"]) == (500, 90)
    assert accrue.idempotency_key == f"ledger:{earn.pk}"
    assert (accrue.source_type, accrue.source_id) == ("loyalty.ledgerentry", str(earn.pk))
    assert tlp_outbox_enqueue_ledger_entry(entry=earn).pk == accrue.pk  # the same entry is queued once


def test_a_cancelled_reservation_gives_the_points_back(tlp_configured):
    member = member_make(ProgramFactory())
    tlp_outbox_enqueue_ledger_entry(entry=points_award(member=member, points=300, source="purchase",
                                                       idempotency_key="e"))
    redemption = redemption_reserve(member=member, points=120, idempotency_key="hold")
    debit = redemption.ledger.get()
    tlp_outbox_enqueue_ledger_entry(entry=debit)
    redemption_cancel(redemption=redemption)
    debit.refresh_from_db()
    back = tlp_outbox_enqueue_ledger_entry(entry=debit)

    assert (back.operation, back.payload["points"], back.idempotency_key) == ("issue", 120,
                                                                           f"ledger:{debit.pk}:cancelled")
    assert list(TLPOutbox.objects.values_list("operation", flat=True)) == ["accrue", "redeem", "issue"]


def test_mirrored_ledger_reconciles_without_drift(tlp_configured, sandbox_clean, tlp_key):
    program = ProgramFactory()
    members = [member_make(program) for _ in range(3)]
    for index, member in enumerate(members):
        entry = points_award(member=member, points=100 * (index + 1), source="purchase", idempotency_key=f"a{index}")
        tlp_outbox_enqueue_ledger_entry(entry=entry)
    spent = points_deduct(member=members[2], points=50, reason="fix", idempotency_key="d")
    tlp_outbox_enqueue_ledger_entry(entry=spent)

    in_transit = tlp_reconcile()  # nothing delivered yet: the undelivered rows explain every difference
    assert (in_transit.status, in_transit.outbox_pending, in_transit.members_checked) == ("ok", 4, 3)

    assert tlp_outbox_drain().delivered == 4
    report = tlp_reconcile()
    assert (report.status, report.members_checked, report.members_drifting) == ("ok", 3, 0)

    # A point moved in TLP behind our back shows up as drift.
    from apps.tlp.services import tlp_client_active

    client = tlp_client_active()
    tlp_member = client.member_search(external_id=ledger_member_key(members[0].pk), fresh=True).items[0]
    client.points_issue(member_id=tlp_member["id"], point_type=tlp_member["balances"][0]["pointType"], points=7,
                        idempotency_key="stray")
    drift = tlp_reconcile()
    assert (drift.status, drift.members_drifting, drift.total_drift) == ("drift", 1, 7)
    assert drift.details[0]["member_key"] == ledger_member_key(members[0].pk)


def test_ledger_services_queue_their_tlp_mirror_in_the_same_transaction(tlp_configured):
    # given a member with points, through the loyalty services alone (no explicit enqueue)
    member = member_make(ProgramFactory())
    earn = points_award(member=member, points=200, source="purchase", idempotency_key="wired-earn")
    redemption = redemption_reserve(member=member, points=80, idempotency_key="wired-hold")
    redemption_cancel(redemption=redemption)

    # then every move is queued for TLP, once, keyed by its ledger entry
    rows = list(TLPOutbox.objects.order_by("pk").values_list("operation", "idempotency_key"))
    debit = redemption.ledger.get()
    assert rows == [("accrue", f"ledger:{earn.pk}"), ("redeem", f"ledger:{debit.pk}"),
                    ("issue", f"ledger:{debit.pk}:cancelled")]


def test_a_refused_points_move_queues_nothing(tlp_configured):
    member = member_make(ProgramFactory())
    points_award(member=member, points=10, source="purchase", idempotency_key="small")
    before = TLPOutbox.objects.count()
    with pytest.raises(ApplicationError):
        points_deduct(member=member, points=500, reason="too much", idempotency_key="refused")
    assert TLPOutbox.objects.count() == before


def test_without_a_tlp_configuration_the_ledger_queues_nothing(tenant):
    member = member_make(ProgramFactory())
    points_award(member=member, points=50, source="purchase", idempotency_key="no-tlp")
    assert not TLPOutbox.objects.exists()


def test_bulk_ledger_writes_queue_their_mirror_once_in_ledger_order(tlp_configured):
    from apps.loyalty.services.ledger import AwardInput, points_award_bulk

    program = ProgramFactory()
    members = [member_make(program) for _ in range(3)]
    awards = [AwardInput(member=member, points=10 * (index + 1), idempotency_key=f"bulk-{index}", pending_days=0)
              for index, member in enumerate(members)]
    entries = points_award_bulk(awards=awards)

    rows = list(TLPOutbox.objects.order_by("pk").values_list("idempotency_key", "operation", "payload__points"))
    assert rows == [(f"ledger:{entry.pk}", "accrue" if entry.kind == "earn" else "issue", entry.amount)
                    for entry in entries]
    # replaying the same bulk call credits nothing and queues nothing more
    points_award_bulk(awards=awards)
    assert TLPOutbox.objects.count() == 3


def test_the_bulk_form_queues_exactly_what_the_single_form_would(tlp_configured):
    """The bulk enqueue writes payloads as JSON text from cached fragments: the rows must equal, field for
    field, those of the one-entry and one-member forms (names that need escaping included)."""
    from apps.tlp.services.outbox import _ledger_row, _member_upsert_row, tlp_outbox_enqueue_ledger_entries

    program = ProgramFactory(name='Club "Ação" \\ 10%')
    members = [member_make(program, email=f"m{index}@example.test", name=name)
               for index, name in enumerate(['Zoë "Z"', "Line\nbreak", "Zoë \"Z\""])]
    with transaction.atomic():
        entries = [points_award(member=member, points=10 + index, source="purchase", reason="Ünïcode: 🎉",
                                idempotency_key=f"b-{index}") for index, member in enumerate(members)]
        entries.append(points_deduct(member=members[0], points=5, reason="tab\there", idempotency_key="b-debit"))
        TLPOutbox.objects.all().delete()
        assert tlp_outbox_enqueue_ledger_entries(entries=entries, members=members) == 3 + 4

    expected = [_member_upsert_row(member) for member in members] + [_ledger_row(entry, None) for entry in entries]
    fields = ("operation", "payload", "member_key", "idempotency_key", "source_type", "source_id")
    assert list(TLPOutbox.objects.order_by("pk").values(*fields)) == [
        {name: row[name] for name in fields} for row in expected]
