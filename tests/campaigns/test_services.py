from __future__ import annotations

import datetime as dt

import pytest

from apps.campaigns.models import Campaign
from apps.campaigns.selectors import campaign_get
from apps.campaigns.services import campaign_create
from apps.core.errors import ApplicationError


def test_campaign_create_makes_a_draft(tenant, make_user):
    admin = make_user(role="admin")
    campaign = campaign_create(name="Premium Line Q1", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31),
                               currency="BRL", language="pt-br", created_by=admin)

    assert campaign.status == Campaign.Status.DRAFT
    assert campaign_get(campaign_id=campaign.pk) == campaign
    assert campaign.source_schema is None


def test_campaign_that_ends_before_it_starts_is_refused_and_nothing_is_written(tenant):
    with pytest.raises(ApplicationError):
        campaign_create(name="Backwards", start_date=dt.date(2026, 3, 31), end_date=dt.date(2026, 1, 1))
    assert not Campaign.objects.exists()


def test_campaign_get_with_a_malformed_id_is_none(tenant):
    assert campaign_get(campaign_id="not-a-uuid") is None


# ------------------------------------------------------------------------------------------ lifecycle
from django.db import connection  # noqa: E402

from apps.campaigns.models import CampaignRuleVersion  # noqa: E402
from apps.campaigns.selectors import campaign_open_version, campaign_running_version  # noqa: E402
from apps.campaigns.services import (  # noqa: E402
    campaign_approve,
    campaign_cancel,
    campaign_connection_set,
    campaign_delete,
    campaign_rule_version_save,
    campaign_submit,
    campaign_update,
    schedule_name,
)
from apps.core.crypto import secret_decrypt  # noqa: E402
from apps.core.errors import ConflictError, UnprocessableError  # noqa: E402
from apps.core.jobs import periodic_task_list  # noqa: E402
from apps.loyalty.selectors import program_resolve  # noqa: E402
from apps.rules.source_db import SourceDatabaseError  # noqa: E402


def _schedules() -> dict[str, int]:
    return {task.name.rsplit(":", 2)[-2] + ":" + task.name.rsplit(":", 1)[-1]: task.interval.every
            for task in periodic_task_list(schema_name=connection.schema_name) if task.interval}


def test_submit_then_approve_freezes_the_version_and_provisions(campaign_with_source, make_user):
    campaign = campaign_with_source("en", execution_interval_seconds=60)
    approver = make_user(role="admin")
    campaign_submit(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PENDING_APPROVAL

    version = campaign_approve(campaign=campaign, user=approver, comment="Looks right")

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.APPROVED
    assert version.status == CampaignRuleVersion.Status.APPROVED
    assert version.approved_by == approver and version.approved_at and version.approval_comment == "Looks right"
    assert version.sql.lstrip().upper().startswith("WITH") and version.dialect == "sqlite"
    assert "Premium Line" not in version.sql  # values are bound parameters
    assert {"type": "plain", "value": "premium line"} in version.params
    program = program_resolve(program_id=campaign.loyalty_program_id)
    assert program.type == "points" and program.status == "active"
    assert campaign.tlp_status == Campaign.TlpStatus.SKIPPED and "not configured" in campaign.tlp_note
    tasks = {t.name: t for t in periodic_task_list(schema_name=connection.schema_name)}
    task = next(t for name, t in tasks.items() if name.endswith(schedule_name(campaign)))
    assert task.interval.every == 60 and task.task == "campaigns.execute"
    assert str(campaign.pk) in task.kwargs


def test_approve_provisions_tlp_when_configured(campaign_with_source, tlp_configured, make_user):
    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign.refresh_from_db()
    assert campaign.tlp_status == Campaign.TlpStatus.PROVISIONED
    assert campaign.tlp_point_type_id


@pytest.mark.parametrize("action", ["approve_draft", "approve_twice", "submit_without_draft"])
def test_illegal_transitions_are_409_and_change_nothing(campaign_with_source, make_user, action):
    campaign = campaign_with_source("en")
    admin = make_user(role="admin")
    if action == "approve_draft":
        with pytest.raises(ConflictError):
            campaign_approve(campaign=campaign, user=admin)
        expected = Campaign.Status.DRAFT
    elif action == "approve_twice":
        campaign_submit(campaign=campaign)
        campaign_approve(campaign=campaign, user=admin)
        with pytest.raises(ConflictError):
            campaign_approve(campaign=campaign, user=admin)
        expected = Campaign.Status.APPROVED
    else:
        campaign_submit(campaign=campaign)
        with pytest.raises(ConflictError):
            campaign_submit(campaign=campaign)
        expected = Campaign.Status.PENDING_APPROVAL
    campaign.refresh_from_db()
    assert campaign.status == expected
    assert campaign.rule_versions.count() == 1


def test_approval_refuses_an_invalid_document_and_writes_nothing(campaign_with_source, make_user):
    campaign = campaign_with_source("en")
    version = campaign_open_version(campaign=campaign)
    version.document = {**version.document, "goals": []}
    version.status = CampaignRuleVersion.Status.PENDING
    version.save()
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PENDING_APPROVAL)
    with pytest.raises(UnprocessableError):
        campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign.refresh_from_db()
    version.refresh_from_db()
    assert campaign.status == Campaign.Status.PENDING_APPROVAL and campaign.loyalty_program_id is None
    assert version.status == CampaignRuleVersion.Status.PENDING and version.sql == ""


def test_editing_an_approved_campaign_makes_a_draft_while_the_approved_one_runs(campaign_with_source, make_user):
    campaign = campaign_with_source("en")
    admin = make_user(role="admin")
    campaign_submit(campaign=campaign)
    first = campaign_approve(campaign=campaign, user=admin)
    document = {**first.document, "goals": [{**first.document["goals"][0], "target": "40000.00"},
                                            first.document["goals"][1]]}

    campaign_update(campaign=campaign, document=document, user=admin)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.APPROVED
    assert campaign_running_version(campaign=campaign) == first
    draft = campaign_open_version(campaign=campaign)
    assert draft.number == 2 and draft.status == CampaignRuleVersion.Status.DRAFT

    campaign_submit(campaign=campaign)
    second = campaign_approve(campaign=campaign, user=admin)
    first.refresh_from_db()
    assert second.number == 2 and first.status == CampaignRuleVersion.Status.SUPERSEDED
    assert campaign_running_version(campaign=campaign) == second


def test_running_campaign_period_is_frozen(campaign_with_source, make_user):
    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    with pytest.raises(ConflictError):
        campaign_update(campaign=campaign, end_date=dt.date(2026, 6, 30))
    campaign.refresh_from_db()
    assert campaign.end_date == dt.date(2026, 3, 31)


def test_interval_under_a_minute_is_refused(tenant):
    with pytest.raises(ApplicationError):
        campaign_create(name="Too fast", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31),
                        execution_interval_seconds=30)
    assert not Campaign.objects.exists()


def test_cancel_unschedules_and_cancelled_is_closed(campaign_with_source, make_user):
    campaign = campaign_with_source("en")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign_cancel(campaign=campaign)
    assert not [t for t in periodic_task_list(schema_name=connection.schema_name)
                if t.name.endswith(schedule_name(campaign))]
    with pytest.raises(ConflictError):
        campaign_rule_version_save(campaign=campaign, document={})
    with pytest.raises(ConflictError):
        campaign_cancel(campaign=campaign)


def test_delete_only_before_it_ran(campaign_with_source):
    campaign = campaign_with_source("en")
    campaign_delete(campaign=campaign)
    assert not Campaign.objects.filter(pk=campaign.pk).exists()


def test_connection_is_tried_then_stored_encrypted(tenant, sales_db):
    campaign = campaign_create(name="C", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31))
    url = f"sqlite:///{sales_db}"
    campaign_connection_set(campaign=campaign, url=url, allow_sqlite=True)
    campaign.refresh_from_db()
    assert str(sales_db) not in campaign.connection_encrypted
    assert secret_decrypt(campaign.connection_encrypted) == url


def test_unreachable_or_sqlite_connection_is_refused_and_not_saved(tenant, tmp_path):
    campaign = campaign_create(name="C", start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 3, 31))
    with pytest.raises(SourceDatabaseError):
        campaign_connection_set(campaign=campaign, url="postgresql://nobody@127.0.0.1:1/nothing")
    with pytest.raises(ApplicationError):
        campaign_connection_set(campaign=campaign, url=f"sqlite:///{tmp_path}/x.db")
    campaign.refresh_from_db()
    assert campaign.connection_encrypted == ""


# ------------------------------------------------------------------------------------------ completion and prizes
from decimal import Decimal  # noqa: E402

from apps.campaigns.models import CampaignExecution, LeaderboardPrize, PointAllocation  # noqa: E402
from apps.campaigns.selectors import competition_ranks  # noqa: E402
from apps.campaigns.services import campaign_complete, campaign_leaderboard_prizes_set  # noqa: E402
from apps.loyalty.selectors import member_list  # noqa: E402
from tests.campaigns.test_execution import hand_points  # noqa: E402

PRIZES = [{"scope": "campaign", "goal_id": "individual", "rank_from": 1, "points": 5000, "name": "Best seller"},
          {"scope": "campaign", "goal_id": "individual", "rank_from": 2, "rank_to": 3, "points": 2000},
          {"scope": "region", "goal_id": "individual", "rank_from": 1, "points": 700, "name": "Best of the region"}]


def _running(campaign_with_source, make_user, prizes=PRIZES):  # type: ignore[no-untyped-def]
    campaign = campaign_with_source("en")
    campaign_leaderboard_prizes_set(campaign=campaign, prizes=prizes)
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign.refresh_from_db()
    return campaign


def _balances(campaign: Campaign) -> dict[str, int]:
    return {m.customer_id: m.available for m in member_list().filter(program_id=campaign.loyalty_program_id)}


def _expected_prizes(expected: dict, region_of: dict) -> dict[str, int]:  # type: ignore[type-arg]
    """The prizes by hand: eligible sellers with sales, ranked by attainment (ties share a rank)."""
    prizes: dict[str, int] = {}

    def pay(keys: list[str], bands: list[tuple[int, int, int]]) -> None:
        ordered = sorted(keys, key=lambda key: (-expected[key]["own_cents"], key))
        ranks = competition_ranks([Decimal(expected[key]["own_cents"]) for key in ordered])
        for key, rank in zip(ordered, ranks, strict=True):
            for low, high, points in bands:
                if low <= rank <= high:
                    prizes[key] = prizes.get(key, 0) + points

    ranked = [key for key, row in expected.items() if row["eligible"] and row["own_cents"] > 0]
    pay(ranked, [(1, 1, 5000), (2, 3, 2000)])
    for region in {region_of[key] for key in ranked}:
        pay([key for key in ranked if region_of[key] == region], [(1, 1, 700)])
    return prizes


def test_complete_runs_a_final_execution_pays_the_top_n_prizes_once_and_unschedules(
        campaign_with_source, make_user, sales_data):
    campaign = _running(campaign_with_source, make_user)
    expected = hand_points(sales_data)
    region_of = {str(person[0]): person[3] for person in sales_data.salespeople}
    prizes = _expected_prizes(expected, region_of)
    assert len(prizes) >= 4  # three campaign winners and at least one regional one

    completed = campaign_complete(campaign=campaign, user=make_user(role="manager"))

    assert completed.status == Campaign.Status.COMPLETED and completed.completed_at is not None
    assert campaign.executions.filter(status=CampaignExecution.Status.SUCCEEDED).count() == 1  # the final run
    assert _balances(campaign) == {key: row["points"] + prizes.get(key, 0) for key, row in expected.items()}
    paid = PointAllocation.objects.filter(campaign=campaign, kind=PointAllocation.Kind.PRIZE)
    assert sum(a.points for a in paid) == sum(prizes.values())
    assert {a.participant.participant_key for a in paid.filter(level=1, prize__scope="campaign")} == {
        max((k for k in prizes if expected[k]["eligible"]), key=lambda k: expected[k]["own_cents"])}
    best = campaign.participants.get(participant_key=paid.get(level=1, prize__scope="campaign").participant
                                     .participant_key)
    assert best.points_allocated == expected[best.participant_key]["points"] + prizes[best.participant_key]
    assert not [t for t in periodic_task_list(schema_name=connection.schema_name)
                if t.name.endswith(schedule_name(campaign))]
    # Completing again is refused and pays nothing more.
    winners = paid.count()
    with pytest.raises(ConflictError):
        campaign_complete(campaign=campaign)
    assert paid.count() == winners and _balances(campaign) == {
        key: row["points"] + prizes.get(key, 0) for key, row in expected.items()}


def test_tied_participants_share_the_rank_and_each_gets_its_prize(campaign_with_source, make_user):
    prizes = [{"goal_id": "individual", "rank_from": 1, "points": 900},
              {"goal_id": "individual", "rank_from": 2, "points": 500},
              {"goal_id": "individual", "rank_from": 3, "points": 100}]
    campaign = _running(campaign_with_source, make_user, prizes)
    from apps.campaigns.execution import campaign_execute

    campaign_execute(campaign=campaign)
    top = sorted(campaign.participants.filter(eligible=True),
                 key=lambda p: -Decimal(p.progress["goals"]["individual"]["attained"]))[:3]
    second = top[1]
    second.progress["goals"]["individual"]["attained"] = top[0].progress["goals"]["individual"]["attained"]
    second.save(update_fields=["progress"])  # a tie for the first place

    campaign_complete(campaign=campaign, final_execution=False)

    paid = {a.participant.participant_key: (a.level, a.points)
            for a in PointAllocation.objects.filter(campaign=campaign, kind=PointAllocation.Kind.PRIZE)}
    assert paid == {top[0].participant_key: (1, 900), top[1].participant_key: (1, 900),
                    top[2].participant_key: (3, 100)}  # rank 2 is skipped: nobody gets its prize
    assert competition_ranks([Decimal(9), Decimal(9), Decimal(5), Decimal(5), Decimal(1)]) == [1, 1, 3, 3, 5]


def test_a_failed_final_execution_leaves_the_campaign_running_and_pays_nothing(campaign_with_source, make_user,
                                                                              sales_db):
    campaign = _running(campaign_with_source, make_user)
    sales_db.unlink()  # the customer's database is gone

    with pytest.raises(ConflictError) as refused:
        campaign_complete(campaign=campaign)

    assert refused.value.code == "final_execution_failed"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.APPROVED and campaign.completed_at is None
    assert campaign.executions.get().status == CampaignExecution.Status.FAILED
    assert not PointAllocation.objects.filter(campaign=campaign).exists()
    assert [t for t in periodic_task_list(schema_name=connection.schema_name)
            if t.name.endswith(schedule_name(campaign))]


def test_only_a_running_campaign_completes(campaign_with_source):
    campaign = campaign_with_source("en")
    with pytest.raises(ConflictError):
        campaign_complete(campaign=campaign)
    assert not CampaignExecution.objects.exists()


def test_leaderboard_prizes_are_validated_and_frozen_at_approval(campaign_with_source, make_user):
    campaign = campaign_with_source("en")
    with pytest.raises(ApplicationError) as invalid:
        campaign_leaderboard_prizes_set(campaign=campaign, prizes=[
            {"goal_id": "individual", "rank_from": 1, "rank_to": 3, "points": 10},
            {"goal_id": "", "rank_from": 0, "points": -5}])
    assert list(invalid.value.fields["leaderboard_prizes"]) == ["1"]
    with pytest.raises(ApplicationError) as overlapping:
        campaign_leaderboard_prizes_set(campaign=campaign, prizes=[
            {"goal_id": "individual", "rank_from": 1, "rank_to": 3, "points": 10},
            {"scope": "region", "goal_id": "individual", "rank_from": 1, "points": 10},  # another leaderboard
            {"goal_id": "individual", "rank_from": 3, "points": 5}])  # overlaps ranks 1-3
    assert list(overlapping.value.fields["leaderboard_prizes"]) == ["2"]
    assert not LeaderboardPrize.objects.exists()

    campaign_leaderboard_prizes_set(campaign=campaign, prizes=[{"goal_id": "regional", "points": 10}])
    campaign_submit(campaign=campaign)
    with pytest.raises(UnprocessableError) as unknown:  # the regional goal does not rank people
        campaign_approve(campaign=campaign, user=make_user(role="admin"))
    assert unknown.value.code == "prize_goal_unknown"
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PENDING_APPROVAL

    campaign_leaderboard_prizes_set(campaign=campaign, prizes=[{"goal_id": "individual", "points": 10}])
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    with pytest.raises(ConflictError):
        campaign_leaderboard_prizes_set(campaign=campaign, prizes=[])
    assert LeaderboardPrize.objects.filter(campaign=campaign).count() == 1
