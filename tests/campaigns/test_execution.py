"""The execution engine end to end on the generated demo sales database: the seed's Premium Line campaign
written in English and in Spanish -> schema analysis -> rule document -> approval -> execution -> points in
the ledger exactly as a hand computation from the generated rows says; executing again moves nothing."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest

from apps.campaigns.execution import campaign_execute
from apps.campaigns.models import Campaign, CampaignExecution, PointAllocation, ProgressSnapshot
from apps.campaigns.services import campaign_approve, campaign_submit
from apps.campaigns.tasks import campaign_execute_task
from apps.loyalty.selectors import member_list
from apps.rules.demo_data import PRODUCT_LINES, SalesData

START, END = "2026-01-01", "2026-03-31"
INDIVIDUAL_CENTS, REGIONAL_CENTS = 50_000_00, 500_000_00


def hand_points(data: SalesData, statuses: dict[int, str] | None = None) -> dict[str, dict[str, Any]]:
    """What the seed's rules pay each salesperson, computed from the generated rows in plain Python."""
    statuses = statuses or {}
    premium_line = PRODUCT_LINES.index("Premium Line") + 1
    premium = {product[0] for product in data.products if product[3] == premium_line}
    orders = {order[0]: order for order in data.orders}
    own: dict[int, int] = defaultdict(int)
    for _id, order_id, product_id, _qty, _price, total in data.lines:
        _oid, day, _customer, salesperson, status = orders[order_id]
        status = statuses.get(order_id, status)
        if START <= day <= END and status == "completed" and product_id in premium:
            own[salesperson] += total
    region_of = {person[0]: person[3] for person in data.salespeople}
    region_total: dict[int, int] = defaultdict(int)
    for salesperson, cents in own.items():
        region_total[region_of[salesperson]] += cents
    result = {}
    for sp_id, _name, _email, region, _hired, terminated in data.salespeople:
        eligible = terminated is None or terminated >= END
        individual = 1000 if eligible and own[sp_id] >= INDIVIDUAL_CENTS else 0
        regional = 500 if eligible and region_total[region] >= REGIONAL_CENTS else 0
        result[str(sp_id)] = {"eligible": eligible, "individual": individual, "regional": regional,
                              "points": individual + regional, "own_cents": own[sp_id]}
    return result


def balances(campaign: Campaign) -> dict[str, int]:
    return {member.customer_id: member.available
            for member in member_list().filter(program_id=campaign.loyalty_program_id)}


def approved(campaign_with_source, make_user, language: str = "en", **fields: Any) -> Campaign:  # type: ignore[no-untyped-def]
    campaign = campaign_with_source(language, **fields)
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign.refresh_from_db()
    return campaign


@pytest.mark.parametrize("language", ["en", "es"])
def test_premium_line_campaign_allocates_exactly_the_hand_computed_points(language, campaign_with_source, make_user,
                                                                           sales_data, tlp_configured):
    campaign = approved(campaign_with_source, make_user, language)
    assert campaign.tlp_status == Campaign.TlpStatus.PROVISIONED
    expected = hand_points(sales_data)
    assert any(row["individual"] for row in expected.values()), "the demo data must reach the goal"
    assert any(not row["eligible"] for row in expected.values()), "the demo data must have a terminated seller"
    assert any(row["regional"] for row in expected.values()), "the demo data must reach a regional goal"

    execution = campaign_execute(campaign=campaign)

    assert execution.status == CampaignExecution.Status.SUCCEEDED, execution.error
    assert execution.rows_scanned == len(sales_data.salespeople) == execution.participants_updated
    assert execution.points_allocated == sum(row["points"] for row in expected.values())
    assert execution.finished_at and execution.duration_ms is not None
    assert balances(campaign) == {key: row["points"] for key, row in expected.items()}
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE
    participants = {p.participant_key: p for p in campaign.participants.all()}
    for key, row in expected.items():
        assert participants[key].eligible == row["eligible"]
        assert participants[key].ineligible_reason == ("" if row["eligible"] else "terminated_before_end")
        assert participants[key].points_allocated == row["points"]
        goals = participants[key].progress["goals"]  # the progress document the dashboards read
        assert set(goals) == {"individual", "regional"}
        # (the SQLite source sums floats: equal to the cent)
        assert abs(Decimal(goals["individual"]["attained"]) - Decimal(row["own_cents"]) / 100) < Decimal("0.01")
        assert (goals["individual"]["points"], goals["regional"]["points"]) == (row["individual"], row["regional"])
        assert {goal["scope"] for goal in goals.values()} == {"individual", "region"}
        assert all(set(goal) == {"attained", "percent", "target", "scope", "points"} for goal in goals.values())
        assert ProgressSnapshot.objects.get(participant=participants[key]).goals == goals
    # Each award is mirrored to TLP through the outbox, in the same transaction.
    from apps.tlp.selectors import tlp_outbox_list

    assert tlp_outbox_list().filter(source_type="loyalty.ledgerentry").count() == \
        PointAllocation.objects.filter(campaign=campaign).count()

    again = campaign_execute(campaign=campaign)

    assert again.status == CampaignExecution.Status.SUCCEEDED and again.points_allocated == 0
    assert balances(campaign) == {key: row["points"] for key, row in expected.items()}
    # Nothing changed: no participant is written again and the history gets no new snapshot (one per change).
    assert again.participants_updated == 0
    assert ProgressSnapshot.objects.filter(participant__campaign=campaign).count() == len(expected)
    assert not ProgressSnapshot.objects.filter(execution=again).exists()


def test_a_failure_mid_allocation_leaves_nothing_and_the_rerun_pays_once(campaign_with_source, make_user, sales_data,
                                                                        monkeypatch):
    campaign = approved(campaign_with_source, make_user)
    expected = hand_points(sales_data)

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("worker lost after the ledger writes")

    monkeypatch.setattr("apps.campaigns.execution._broadcast", crash)  # the last step inside the transaction
    failed = campaign_execute(campaign=campaign)

    assert failed.status == CampaignExecution.Status.FAILED and "worker lost" in failed.error
    assert sum(balances(campaign).values()) == 0
    assert not PointAllocation.objects.filter(campaign=campaign).exists()
    assert not ProgressSnapshot.objects.filter(execution=failed).exists()
    # nobody joined either: no participant, no loyalty member, no ledger entry
    assert not campaign.participants.exists() and not balances(campaign)
    from apps.loyalty.models import LedgerEntry

    assert not LedgerEntry.objects.filter(campaign_id=campaign.pk).exists()

    monkeypatch.undo()
    campaign_execute(campaign=campaign)
    campaign_execute(campaign=campaign)
    assert balances(campaign) == {key: row["points"] for key, row in expected.items()}


def _return_q1_orders(sales_db, data: SalesData, salesperson: str) -> dict[int, str]:  # type: ignore[no-untyped-def]
    ids = [order[0] for order in data.orders if str(order[3]) == salesperson and START <= order[1] <= END]
    with sqlite3.connect(sales_db) as conn:
        conn.executemany("UPDATE orders SET status = 'returned' WHERE id = ?", [(i,) for i in ids])
    return dict.fromkeys(ids, "returned")


def _paid_winner(expected: dict[str, dict[str, Any]]) -> str:
    return next(key for key, row in sorted(expected.items(), key=lambda item: item[1]["own_cents"])
                if row["individual"])


def test_returned_orders_hold_future_points_by_default(campaign_with_source, make_user, sales_data, sales_db):
    campaign = approved(campaign_with_source, make_user)
    assert campaign.retroactive_policy == Campaign.RetroactivePolicy.HOLD
    before = hand_points(sales_data)
    campaign_execute(campaign=campaign)
    winner = _paid_winner(before)

    after = hand_points(sales_data, _return_q1_orders(sales_db, sales_data, winner))
    execution = campaign_execute(campaign=campaign)

    assert after[winner]["individual"] == 0
    assert balances(campaign) == {key: row["points"] for key, row in before.items()}  # nothing taken back
    participant = campaign.participants.get(participant_key=winner)
    assert participant.points_held == before[winner]["points"] - after[winner]["points"] > 0
    assert execution.points_held >= participant.points_held and execution.points_clawed_back == 0


def test_returned_orders_are_clawed_back_when_configured(campaign_with_source, make_user, sales_data, sales_db):
    campaign = approved(campaign_with_source, make_user, retroactive_policy=Campaign.RetroactivePolicy.CLAWBACK)
    before = hand_points(sales_data)
    campaign_execute(campaign=campaign)
    winner = _paid_winner(before)

    after = hand_points(sales_data, _return_q1_orders(sales_db, sales_data, winner))
    execution = campaign_execute(campaign=campaign)

    assert balances(campaign) == {key: row["points"] for key, row in after.items()}
    assert execution.points_clawed_back == sum(before[k]["points"] - after[k]["points"] for k in before) > 0
    assert PointAllocation.objects.filter(campaign=campaign, kind=PointAllocation.Kind.CLAWBACK).exists()


def test_the_scheduled_task_executes_and_skips_a_stopped_campaign(campaign_with_source, make_user, sales_data):
    campaign = approved(campaign_with_source, make_user)
    assert campaign_execute_task.run(campaign_id=str(campaign.pk)) == CampaignExecution.Status.SUCCEEDED
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.CANCELLED)
    assert campaign_execute_task.run(campaign_id=str(campaign.pk)) is None
    assert campaign.executions.count() == 1


def test_a_draft_campaign_cannot_be_executed(campaign_with_source):
    from apps.core.errors import ConflictError

    campaign = campaign_with_source("en")
    with pytest.raises(ConflictError):
        campaign_execute(campaign=campaign)
    assert not CampaignExecution.objects.exists()


def test_the_engine_runs_no_query_per_participant(campaign_with_source, make_user, sales_data):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    campaign = approved(campaign_with_source, make_user)
    with CaptureQueriesContext(connection) as first:
        campaign_execute(campaign=campaign)
    with CaptureQueriesContext(connection) as second:
        campaign_execute(campaign=campaign)
    participants = len(sales_data.salespeople)
    # A constant number of statements whatever the number of participants (12 here, 2 goals each): about 25
    # for the first run (savepoints included; COPY streams are not counted), one per participant would add 12.
    assert len(first) < 35 and participants == 12, [q["sql"][:80] for q in first.captured_queries]
    # The steady state reads the participants and writes none of them (nor snapshots, nor allocations).
    assert len(second) < 12, [q["sql"][:80] for q in second.captured_queries]
    written = [q["sql"] for q in second.captured_queries if q["sql"].startswith(("INSERT", "UPDATE", "COPY"))]
    assert all("campaignexecution" in sql for sql in written), written


def _with_policy(expected: dict[str, dict[str, Any]], policy: str) -> dict[str, dict[str, Any]]:
    """The hand computation under a regional award policy (``hand_points`` is ``all_eligible``)."""
    result = {}
    for key, row in expected.items():
        regional = row["regional"]
        if policy == Campaign.RegionalAwardPolicy.NONE or (
                policy == Campaign.RegionalAwardPolicy.CONTRIBUTORS_ONLY and row["own_cents"] <= 0):
            regional = 0
        result[key] = {**row, "regional": regional, "points": row["individual"] + regional}
    return result


def test_the_regional_award_goes_to_every_eligible_participant_by_default(campaign_with_source, make_user):
    campaign = approved(campaign_with_source, make_user)
    assert campaign.regional_award_policy == Campaign.RegionalAwardPolicy.ALL_ELIGIBLE


def test_no_regional_award_when_the_policy_is_none(campaign_with_source, make_user, sales_data):
    campaign = approved(campaign_with_source, make_user, regional_award_policy=Campaign.RegionalAwardPolicy.NONE)
    expected = _with_policy(hand_points(sales_data), Campaign.RegionalAwardPolicy.NONE)

    execution = campaign_execute(campaign=campaign)

    assert execution.status == CampaignExecution.Status.SUCCEEDED, execution.error
    assert balances(campaign) == {key: row["points"] for key, row in expected.items()}
    assert not PointAllocation.objects.filter(campaign=campaign, goal_id="regional").exists()
    assert execution.points_allocated == sum(row["individual"] for row in expected.values()) > 0


def test_only_contributors_of_the_region_get_the_regional_award(campaign_with_source, make_user, sales_data,
                                                                sales_db):
    campaign = approved(campaign_with_source, make_user,
                        regional_award_policy=Campaign.RegionalAwardPolicy.CONTRIBUTORS_ONLY)
    before = hand_points(sales_data)
    region_of = {str(person[0]): person[3] for person in sales_data.salespeople}
    region_total: dict[Any, int] = defaultdict(int)
    for key, row in before.items():
        region_total[region_of[key]] += row["own_cents"]
    # An eligible seller of a rewarded region whose sales the region can do without: all returned, the region
    # still reaches its target, and the seller no longer contributed.
    idle = min((key for key, row in before.items() if row["regional"]
                and region_total[region_of[key]] - row["own_cents"] >= REGIONAL_CENTS),
               key=lambda key: before[key]["own_cents"])
    statuses = _return_q1_orders(sales_db, sales_data, idle)
    expected = _with_policy(hand_points(sales_data, statuses), Campaign.RegionalAwardPolicy.CONTRIBUTORS_ONLY)

    execution = campaign_execute(campaign=campaign)

    assert execution.status == CampaignExecution.Status.SUCCEEDED, execution.error
    assert expected[idle]["points"] == 0 and hand_points(sales_data, statuses)[idle]["regional"] == 500
    assert any(row["regional"] for row in expected.values())
    assert balances(campaign) == {key: row["points"] for key, row in expected.items()}


def _restore_orders(sales_db, data: SalesData, statuses: dict[int, str]) -> None:  # type: ignore[no-untyped-def]
    original = {order[0]: order[4] for order in data.orders}
    with sqlite3.connect(sales_db) as conn:
        conn.executemany("UPDATE orders SET status = ? WHERE id = ?", [(original[i], i) for i in statuses])


def test_a_claw_back_the_balance_cannot_cover_becomes_debt_that_the_next_award_repays_first(
        campaign_with_source, make_user, sales_data, sales_db):
    from apps.campaigns.selectors_dashboard import participant_balance
    from apps.loyalty.selectors import member_ledger_verify
    from apps.loyalty.services import points_deduct

    campaign = approved(campaign_with_source, make_user, retroactive_policy=Campaign.RetroactivePolicy.CLAWBACK)
    before = hand_points(sales_data)
    campaign_execute(campaign=campaign)
    winner = _paid_winner(before)
    participant = campaign.participants.get(participant_key=winner)
    member = member_list().get(pk=participant.member_id)
    points_deduct(member=member, points=member.available - 100, reason="spent", idempotency_key="spent")  # 100 left

    returned = _return_q1_orders(sales_db, sales_data, winner)
    after = hand_points(sales_data, returned)
    shortfall = before[winner]["points"] - after[winner]["points"]
    execution = campaign_execute(campaign=campaign)

    member.refresh_from_db()
    assert shortfall > 100 and (member.available, member.debt) == (0, shortfall - 100)
    # The participant is told what they owe (dashboard and GET /api/participants/{id}/points share this).
    assert participant_balance(participant=participant).debt == shortfall - 100
    assert execution.points_unrecovered == shortfall - 100
    assert execution.points_clawed_back == sum(before[k]["points"] - after[k]["points"] for k in before) - (
        shortfall - 100)
    clawed = PointAllocation.objects.filter(campaign=campaign, participant=participant,
                                            kind=PointAllocation.Kind.CLAWBACK)
    assert sum(a.points for a in clawed) == -shortfall and sum(a.unrecovered for a in clawed) == shortfall - 100
    participant.refresh_from_db()
    assert participant.points_allocated == after[winner]["points"]
    assert campaign_execute(campaign=campaign).points_clawed_back == 0  # recorded once, not chased every run

    _restore_orders(sales_db, sales_data, returned)
    campaign_execute(campaign=campaign)

    member.refresh_from_db()
    assert (member.available, member.debt) == (100, 0)  # the award paid the debt first
    assert member_ledger_verify(member=member) == []
    participant.refresh_from_db()
    assert participant.points_allocated == before[winner]["points"]


def test_a_policy_change_re_evaluates_participants_whose_sales_did_not_change(campaign_with_source, make_user,
                                                                               sales_data):
    from apps.campaigns.services import campaign_update

    campaign = approved(campaign_with_source, make_user)
    expected = hand_points(sales_data)
    campaign_execute(campaign=campaign)

    campaign_update(campaign=campaign, regional_award_policy=Campaign.RegionalAwardPolicy.NONE)
    execution = campaign_execute(campaign=campaign)

    regional = {key: row["regional"] for key, row in expected.items() if row["regional"]}
    assert execution.points_held == sum(regional.values()) > 0 and execution.points_allocated == 0
    assert execution.participants_updated == len(expected)  # new rules: everyone is evaluated again
    assert {p.participant_key: p.points_held for p in campaign.participants.filter(points_held__gt=0)} == regional
    assert balances(campaign) == {key: row["points"] for key, row in expected.items()}  # hold: nothing taken


def test_participants_get_their_tlp_member_when_they_join_ahead_of_their_points(campaign_with_source, make_user,
                                                                               sales_data, tlp_configured):
    from apps.campaigns.services import campaign_participant_link
    from apps.tlp.models import TLPOutbox
    from apps.tlp.services import tlp_client_active, tlp_outbox_drain
    from apps.tlp.services.outbox import ledger_member_key

    expected = hand_points(sales_data)
    early, late = sorted(expected)[:2]
    campaign = campaign_with_source("en")
    ana, bea = make_user(role="participant", email="ana@example.test"), make_user(role="participant")
    linked = campaign_participant_link(campaign=campaign, participant_key=early, user=ana, name="Ana Souza")
    assert linked.member_id is None and not TLPOutbox.objects.exists()  # no program before approval

    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))  # the early joiner's members now
    linked.refresh_from_db()
    upserts = TLPOutbox.objects.filter(operation="member_upsert")
    assert list(upserts.values_list("member_key", "payload")) == [
        (ledger_member_key(linked.member_id), {"member": {"email": "ana@example.test", "name": "Ana Souza"}})]
    late_one = campaign_participant_link(campaign=campaign, participant_key=late, user=bea)  # joins after approval
    assert late_one.member_id is not None and upserts.count() == 2

    campaign_execute(campaign=campaign)  # everyone else joins with this run

    members = {p.participant_key: p.member_id for p in campaign.participants.all()}
    # Those who joined earlier were upserted then; of those joining now, only the ones without points are:
    # the others' TLP member comes with the mirror of their first points (it carries their email and name).
    quiet_now = {key for key, row in expected.items() if not row["points"] and key not in (early, late)}
    assert upserts.count() == 2 + len(quiet_now) and quiet_now
    for key, member_id in members.items():
        rows = list(TLPOutbox.objects.filter(member_key=ledger_member_key(member_id)).order_by("pk")
                    .values_list("operation", "payload"))
        mirrors = bool(expected[key]["individual"]) + bool(expected[key]["regional"])
        upserted = key in (early, late) or key in quiet_now
        assert [operation for operation, _payload in rows] == (
            ["member_upsert"] * upserted + ["accrue"] * mirrors), (key, rows)
        assert all(payload["member"] == rows[0][1]["member"] for _operation, payload in rows)
    report = tlp_outbox_drain()
    assert report.dead == 0 and not TLPOutbox.objects.exclude(status="delivered").exists()
    client = tlp_client_active()
    found = client.member_search(external_id=ledger_member_key(linked.member_id), fresh=True).items
    assert len(found) == 1 and found[0]["email"] == "ana@example.test"
    quiet = next(key for key, row in expected.items() if not row["points"])  # a member with no points yet
    assert client.member_search(external_id=ledger_member_key(members[quiet]), fresh=True).items


def test_a_regions_new_total_reaches_its_other_participants_by_one_statement_with_a_snapshot_each(
        campaign_with_source, make_user, sales_data, sales_db, monkeypatch):
    """Returned orders of one seller move their region's total: that seller is evaluated on their own; the
    others of the region, whose rows did not change otherwise, get the region's new figures set in place, each
    with a snapshot, exactly as a full rewrite would write them; other regions are not touched."""
    from apps.campaigns.services import campaign_participant_link

    campaign = approved(campaign_with_source, make_user)
    campaign_execute(campaign=campaign)
    before = {p.participant_key: p for p in campaign.participants.all()}
    seller = _paid_winner(hand_points(sales_data))
    region = before[seller].region
    neighbours = sorted(key for key, p in before.items() if p.region == region and key != seller)
    assert neighbours and len({p.region for p in before.values()}) > 1
    linked = campaign_participant_link(campaign=campaign, participant_key=neighbours[0],
                                       user=make_user(role="participant"))
    pushed: list[tuple[str, str]] = []
    monkeypatch.setattr("apps.campaigns.execution.live_broadcast",
                        lambda topic, event, payload: pushed.append((topic, event)))

    _return_q1_orders(sales_db, sales_data, seller)
    execution = campaign_execute(campaign=campaign)

    after = {p.participant_key: p for p in campaign.participants.all()}
    regional = after[seller].progress["goals"]["regional"]  # the seller's own row, written in full
    assert regional["attained"] != before[seller].progress["goals"]["regional"]["attained"]
    assert execution.regions[region]["regional"] == [regional["attained"], regional["percent"]]
    for key in neighbours:
        progress = after[key].progress
        assert progress["goals"]["regional"] == {**before[key].progress["goals"]["regional"],
                                                 "attained": regional["attained"], "percent": regional["percent"]}
        assert progress["goals"]["individual"] == before[key].progress["goals"]["individual"]
        assert progress["taken_at"] > before[key].progress["taken_at"] and after[key].last_execution_id == execution.pk
    snapshots = {s.participant.participant_key: s for s in ProgressSnapshot.objects.filter(execution=execution)
                 .select_related("participant")}
    assert set(snapshots) == {seller, *neighbours}  # the other regions did not move
    assert all(snapshots[key].goals == after[key].progress["goals"] for key in neighbours)
    assert execution.participants_updated == 1 + len(neighbours)
    assert (f"user:{linked.user_id}", "campaign.my_progress") in pushed

    # What a full rewrite of everyone (a policy change re-evaluates every participant) writes is the same.
    Campaign.objects.filter(pk=campaign.pk).update(retroactive_policy=Campaign.RetroactivePolicy.CLAWBACK)
    campaign.refresh_from_db()
    assert campaign_execute(campaign=campaign).participants_updated == len(after)
    rewritten = {p.participant_key: p.progress["goals"] for p in campaign.participants.all()}
    assert all(rewritten[key] == after[key].progress["goals"] for key in neighbours)
    assert campaign_execute(campaign=campaign).participants_updated == 0  # and then nothing moves
