"""Reads behind the participant dashboard (apps/campaigns/selectors_dashboard.py) on the seed's Premium Line
campaign run against the generated sales database: goals, chart history, badges, leaderboards with masked
names, eligibility, offers, and who may hear a campaign's live topic."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from apps.campaigns import selectors_dashboard as dashboard
from apps.campaigns.execution import campaign_execute
from apps.campaigns.models import CampaignParticipant, LeaderboardPrize
from apps.campaigns.services import (
    campaign_approve,
    campaign_participant_link,
    campaign_points_allocate,
    campaign_submit,
    participant_redeem,
)
from apps.core.live import live_topic_allowed
from tests.campaigns.test_execution import hand_points


@pytest.fixture
def approved(campaign_with_source, make_user, sales_data, sales_db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    campaign = campaign_with_source("en")
    expected = hand_points(sales_data)
    # ranked: eligible with sales towards the goal, best first
    eligible = sorted((key for key, row in expected.items() if row["eligible"] and row["own_cents"] > 0),
                      key=lambda key: (-expected[key]["own_cents"], key))
    # the best seller, and the weakest eligible one (outside any top 3)
    best, weakest = eligible[0], eligible[-1]
    loser = next(key for key, row in sorted(expected.items()) if not row["eligible"])
    users = {key: make_user(role="participant") for key in (best, weakest, loser)}
    for key, user in users.items():
        campaign_participant_link(campaign=campaign, participant_key=key, user=user, name=f"Pat Person{key}")
    campaign_submit(campaign=campaign)
    campaign_approve(campaign=campaign, user=make_user(role="admin"))
    campaign.refresh_from_db()
    return {"campaign": campaign, "expected": expected, "eligible": eligible, "best": best, "weakest": weakest,
            "loser": loser, "users": users, "sales_db": sales_db}


def _participant(data: dict[str, Any], key: str):  # type: ignore[no-untyped-def]
    return dashboard.participant_dashboard_get(user=data["users"][key], campaign_id=data["campaign"].pk)


@pytest.mark.parametrize(("name", "masked"), [("Ana Souza", "Ana S."), ("Ana Maria da Silva", "Ana S."),
                                              ("Cher", "Cher"), ("", "A participant"), ("   ", "A participant")])
def test_names_are_masked_to_first_name_and_initial(name, masked):
    assert dashboard.masked_name(name) == masked


def test_before_the_first_execution_goals_are_zero_and_nothing_is_ranked(approved):
    participant = _participant(approved, approved["best"])
    goals = dashboard.participant_goals(participant=participant)
    assert [(g.scope, g.measured, g.percent, g.meter) for g in goals] == [("individual", False, 0, 0),
                                                                          ("region", False, 0, 0)]
    assert goals[0].next_reward == dashboard.NextReward(at_percent=100, points=1000)
    assert dashboard.participant_progress_chart(participant=participant, goals=goals).rows == []
    assert all(not board.rows for board in dashboard.participant_leaderboards(participant=participant, goals=goals))
    assert dashboard.ineligibility_reason(participant=participant) is None
    assert not any(badge.earned for badge in dashboard.participant_badges(participant=participant, goals=goals))


def test_after_executions_goals_chart_badges_and_balance_follow_the_sales(approved):
    campaign, expected, best = approved["campaign"], approved["expected"], approved["best"]
    campaign_execute(campaign=campaign)
    campaign_execute(campaign=campaign)  # nothing changed: no new snapshot (one per change, not per run)
    participant = _participant(approved, best)
    goals = dashboard.participant_goals(participant=participant)
    individual = goals[0]
    assert individual.measured and individual.percent >= 100 and individual.meter == 100
    assert individual.attained * 100 == expected[best]["own_cents"]
    assert individual.next_reward is None and individual.points == 1000
    assert individual.fill_height == "86.0" and individual.fill_y == "6.0"

    chart = dashboard.participant_progress_chart(participant=participant, goals=goals)
    assert len(chart.rows) == 1
    data = chart.chart_data(date_format=lambda moment: moment.isoformat())
    assert [series["id"] for series in data["series"]] == ["individual", "regional"]
    assert data["series"][0]["values"] == [float(individual.percent)] and len(data["labels"]) == 1
    assert dashboard.campaign_last_calculation(campaign=campaign) == campaign.executions.order_by(
        "-started_at").first()

    badges = {badge.key: badge for badge in dashboard.participant_badges(participant=participant, goals=goals)}
    assert all(badges[f"individual-{step}"].earned for step in (25, 50, 75, 100))
    assert badges["individual-100"].earned_at == chart.rows[0].taken_at  # the first execution that reached it
    assert badges["individual-100"].title == "Individual goal reached"
    assert badges["regional-100"].earned == (expected[best]["regional"] > 0)
    assert badges["regional-100"].title == "Regional goal reached"
    assert not badges["first-redemption"].earned

    balance = dashboard.participant_balance(participant=participant)
    assert balance.available == expected[best]["points"] and balance.held_back == 0
    assert len(list(dashboard.participant_transactions(participant=participant))) >= 1


def test_first_redemption_badge_and_affordable_offers(approved):
    campaign, best = approved["campaign"], approved["best"]
    campaign_execute(campaign=campaign)
    campaign_points_allocate(campaign=campaign, participant_key=best, points=100_000, reason="Contest",
                             idempotency_key="k")
    participant = _participant(approved, best)
    available = dashboard.participant_balance(participant=participant).available
    offers = dashboard.participant_offers(participant=participant, available=available)
    assert [o.points_cost for o in offers] == [50_000, 100_000] and all(o.affordable for o in offers)
    participant_redeem(participant=participant, prize_id=offers[0].id, idempotency_key="t")

    after = dashboard.participant_balance(participant=participant).available
    assert after == available - 50_000
    offers = dashboard.participant_offers(participant=participant, available=after)
    assert [o.affordable for o in offers] == [True, False] and offers[1].missing == 100_000 - after
    goals = dashboard.participant_goals(participant=participant)
    assert next(b for b in dashboard.participant_badges(participant=participant, goals=goals)
                if b.key == "first-redemption").earned


def test_leaderboards_rank_eligible_people_by_the_individual_goal_with_masked_names(approved):
    campaign = approved["campaign"]
    campaign_execute(campaign=campaign)
    weakest = _participant(approved, approved["weakest"])
    goals = dashboard.participant_goals(participant=weakest)
    boards = {board.key: board for board in dashboard.participant_leaderboards(participant=weakest, goals=goals,
                                                                                top=3)}
    everyone = boards["campaign"]
    assert everyone.size == len(approved["eligible"])
    assert [row.rank for row in everyone.rows] == [1, 2, 3]
    assert everyone.rows[0].name == "Pat P." and not everyone.rows[0].is_me  # the best seller, masked
    assert all(str(row.name).count(" ") <= 1 for row in everyone.rows)
    # the viewer is last and outside the top: their own row comes after the top with their rank
    assert everyone.me is not None and everyone.me.rank == len(approved["eligible"]) and everyone.me.is_me
    region = boards["region"]
    assert region.title == f"Region {weakest.region}"
    assert region.size == campaign.participants.filter(region=weakest.region, eligible=True).count() < everyone.size
    assert [row.rank for row in region.rows] == list(range(1, min(3, region.size) + 1))
    # salespeople nobody imported or linked have no name: "A participant", never their id
    assert {str(row.name) for row in everyone.rows[1:]} == {"A participant"}

    best = _participant(approved, approved["best"])
    mine = dashboard.participant_leaderboards(participant=best, goals=goals, top=3)[0]
    assert mine.rows[0].is_me and mine.me is None


def test_an_ineligible_participant_gets_the_reason_and_no_rank(approved):
    campaign_execute(campaign=approved["campaign"])
    loser = _participant(approved, approved["loser"])
    assert "your employment ends before it" in dashboard.ineligibility_reason(participant=loser)
    goals = dashboard.participant_goals(participant=loser)
    board = dashboard.participant_leaderboards(participant=loser, goals=goals)[0]
    assert board.me is None and not any(row.is_me for row in board.rows)


def test_a_sale_added_to_the_source_moves_the_chart(approved):
    campaign, weakest = approved["campaign"], approved["weakest"]
    campaign_execute(campaign=campaign)
    with sqlite3.connect(approved["sales_db"]) as db:
        product = db.execute("SELECT p.id FROM products p JOIN product_lines l ON l.id = p.product_line_id "
                             "WHERE l.name = 'Premium Line' LIMIT 1").fetchone()[0]
        order = db.execute("SELECT MAX(id) + 1 FROM orders").fetchone()[0]
        line = db.execute("SELECT MAX(id) + 1 FROM order_items").fetchone()[0]
        db.execute("INSERT INTO orders VALUES (?, '2026-02-10', 1, ?, 'completed', 'BRL')", (order, int(weakest)))
        db.execute("INSERT INTO order_items VALUES (?, ?, ?, 1, 60000.00, 60000.00)", (line, order, product))
    campaign_execute(campaign=campaign)
    participant = _participant(approved, weakest)
    goals = dashboard.participant_goals(participant=participant)
    chart = dashboard.participant_progress_chart(participant=participant, goals=goals)
    assert len(chart.rows) == 2 and chart.rows[0].taken_at < chart.rows[1].taken_at
    assert chart.rows[0].percents[0] < 100 <= chart.rows[1].percents[0]
    assert [row.taken_at for row in chart.table_rows] == [chart.rows[1].taken_at, chart.rows[0].taken_at]


def test_the_dashboard_is_only_for_visible_campaigns_the_user_takes_part_in(approved, make_user):
    campaign = approved["campaign"]
    assert dashboard.participant_dashboard_get(user=make_user(role="admin"), campaign_id=campaign.pk) is None
    assert dashboard.participant_dashboard_get(user=approved["users"][approved["best"]], campaign_id="x") is None
    active, past = dashboard.participant_campaign_list(user=approved["users"][approved["best"]])
    assert [p.campaign_id for p in active] == [campaign.pk] and past == []


def test_a_campaign_topic_is_for_its_participants_and_the_staff(approved, make_user):
    campaign = approved["campaign"]
    topic = f"campaign:{campaign.pk}"
    assert live_topic_allowed(user=approved["users"][approved["best"]], topic=topic)
    assert not live_topic_allowed(user=make_user(role="participant"), topic=topic)
    for role in ("owner", "admin", "manager", "analyst"):
        assert live_topic_allowed(user=make_user(role=role), topic=topic)
    assert not live_topic_allowed(user=make_user(role="admin"), topic="campaign:42")  # no such campaign
    assert not live_topic_allowed(user=make_user(role="admin"),
                                  topic="campaign:00000000-0000-0000-0000-000000000000")


def test_ties_share_a_rank_and_nobody_without_sales_is_ranked(approved):
    campaign = approved["campaign"]
    campaign_execute(campaign=campaign)
    participants = list(campaign.participants.filter(eligible=True).order_by("participant_key"))
    scores = {p.pk: 0 for p in participants}
    scores.update(zip([p.pk for p in participants[:4]], [300, 200, 200, 100], strict=True))
    for participant in participants:  # arranged: the attainments a run could have produced
        goals = participant.progress["goals"]
        goals["individual"] = {**goals["individual"], "attained": str(scores[participant.pk]),
                               "percent": str(scores[participant.pk] / 500)}
        CampaignParticipant.objects.filter(pk=participant.pk).update(progress={**participant.progress,
                                                                               "goals": goals})
    board = dashboard.participant_leaderboards(participant=participants[0], goals=dashboard.participant_goals(
        participant=participants[0]))[0]
    assert [row.rank for row in board.rows] == [1, 2, 2, 4] and board.size == 4
    assert board.rows[0].is_me and board.includes_me
    unranked = participants[5]
    theirs = dashboard.participant_leaderboards(participant=unranked, goals=dashboard.participant_goals(
        participant=unranked))[0]
    assert theirs.me is None and not theirs.includes_me


def test_each_board_lists_its_top_n_prizes_and_whether_the_viewer_is_in_line(approved, web_client):
    campaign = approved["campaign"]
    campaign_execute(campaign=campaign)
    best, weakest = _participant(approved, approved["best"]), _participant(approved, approved["weakest"])
    goals = dashboard.participant_goals(participant=best)
    goal_id = next(goal.id for goal in goals if goal.scope == "individual")
    # Prizes are frozen at approval (services refuse them now): the setup writes the rows the approval froze.
    LeaderboardPrize.objects.bulk_create([
        LeaderboardPrize(campaign=campaign, scope="campaign", goal_id=goal_id, rank_from=1, rank_to=1, points=20_000,
                         name="Gold"),
        LeaderboardPrize(campaign=campaign, scope="campaign", goal_id=goal_id, rank_from=2, rank_to=5, points=5_000),
        LeaderboardPrize(campaign=campaign, scope="region", goal_id=goal_id, rank_from=1, rank_to=3, points=3_000),
        LeaderboardPrize(campaign=campaign, scope="campaign", goal_id="another-goal", rank_from=1, rank_to=1,
                         points=1),
    ])

    boards = {board.key: board for board in dashboard.participant_leaderboards(participant=best, goals=goals)}
    assert [(p.rank_from, p.rank_to, p.points, p.name, p.in_line) for p in boards["campaign"].prizes] == [
        (1, 1, 20_000, "Gold", True), (2, 5, 5_000, "", False)]
    assert [(p.points, p.in_line) for p in boards["region"].prizes] == [(3_000, True)]

    theirs = dashboard.participant_leaderboards(participant=weakest, goals=goals)[0]
    assert theirs.my_rank == len(approved["eligible"]) > 5
    assert [p.in_line for p in theirs.prizes] == [False, False]

    page = web_client(user=approved["users"][approved["best"]]).get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="leaderboard-prizes-campaign"' in page and "20,000 points (Gold)" in page
    assert "your current rank is in line for it" in page
