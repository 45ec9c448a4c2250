"""The plain-language explanation of a rule document (en, pt-BR, es) and the TLP action plan."""

from __future__ import annotations

import copy

import pytest
from django.utils import translation

from apps.rules.explain import rule_document_explain, tlp_action_plan
from tests.rules.test_document import VALID


def test_the_contract_example_explained_in_english():
    explanation = rule_document_explain(document=VALID, language="en")

    assert explanation["language"] == "en"
    assert explanation["summary"] == (
        "Campaign “Premium Line Q1” runs from Jan. 1, 2026 to March 31, 2026; amounts are in BRL.")
    assert explanation["sections"] == {
        "goals": [
            "Goal “individual”: each participant's own sales must reach R$ 50,000.00, counting only product lines "
            "“Premium Line”.",
            "At 80% of the target: 500 points.",
            "At 100% of the target: 1,000 points.",
            "Only the highest threshold reached pays; thresholds do not add up.",
            "Goal “regional”: each region's sales must reach R$ 500,000.00, counting only product lines "
            "“Premium Line”.",
            "At 100% of the target: 500 points.",
            "In addition, 1 point for every R$ 100.00 attained, from the first sale.",
            "When the goal is reached, every eligible participant it covers earns the points.",
        ],
        "eligibility": [
            "Participants must be employed until the last day of the campaign; anyone whose employment ends "
            "earlier earns nothing.",
            "Orders that are cancelled or returned do not count.",
        ],
        "prizes": ["“Smart TV 55\"” costs 1,000 points."],
        "caps": [],
        "questions": ["…"],
    }
    assert explanation["text"].splitlines()[0] == explanation["summary"]
    assert len(explanation["text"].splitlines()) == 1 + 8 + 2 + 1


def test_every_part_of_a_document_gets_a_sentence():
    document = copy.deepcopy(VALID)
    document["goals"][0].update(metric="quantity", target="300")
    document["goals"][0]["filters"].update(categories=["Electronics"], skus=["ABC-1", "ABC-2"], regions=["South"])
    document["goals"][1].update(scope="company", metric="order_count", target="1", points_per_unit=None)
    document["eligibility"].update(employed_through_end=False, excluded_statuses=["returned"], regions=["North"],
                                   min_order_value="100.00", new_customers_only=True)
    document["caps"] = {"max_points_per_participant": 5000, "budget_points": 1000000}

    sections = rule_document_explain(document=document, language="en")["sections"]

    assert sections["goals"][0] == (
        "Goal “individual”: each participant's own sales must reach 300 units, counting only product lines "
        "“Premium Line”; categories “Electronics”; SKUs “ABC-1” and “ABC-2”; regions “South”.")
    assert sections["goals"][4] == "Goal “regional”: the whole company's sales must reach 1 order, counting only " \
                                   "product lines “Premium Line”."
    assert sections["eligibility"] == [
        "Orders that are returned do not count.",
        "Only participants of the regions “North” take part.",
        "Orders below R$ 100.00 do not count.",
        "Only sales to new customers (whose first order falls in the period) count.",
    ]
    assert sections["caps"] == ["No participant can earn more than 5,000 points.",
                                "The campaign awards at most 1,000,000 points in total."]


@pytest.mark.parametrize(
    ("language", "start", "amount", "points"),
    [
        ("pt-br", "1 de janeiro de 2026", "R$ 50.000,00", "1.000"),
        ("es", "1 de enero de 2026", "R$ 50\u00a0000,00", "1\u00a0000"),
    ],
)
def test_dates_and_numbers_follow_the_admins_language(language, start, amount, points):
    before = translation.get_language()

    explanation = rule_document_explain(document=VALID, language=language)

    assert explanation["language"] == language
    assert start in explanation["summary"]
    assert amount in explanation["sections"]["goals"][0]
    assert f"{points} " in explanation["sections"]["goals"][2]
    assert translation.get_language() == before  # the request's language is left as it was


def test_the_tlp_action_plan_uses_tlp_field_names():
    plan = tlp_action_plan(document=VALID, language="en")

    assert plan["point_type"] == {
        "name": "Premium Line Q1 points", "description": "Points earned in the campaign “Premium Line Q1”.",
        "rank": 1, "enabled": True, "options": {"showZeroPointBalance": True}, "code": "point.premium_line_q1",
    }
    assert [(offer["goal_id"], offer["at_percent"], offer["body"]["points"], offer["body"].get("minimumSpend"))
            for offer in plan["accrual_offers"]] == [
        ("individual", 80, 500, 40000), ("individual", 100, 1000, 50000), ("regional", 100, 500, 500000),
        ("regional", 0, 1, None)]
    assert plan["accrual_offers"][0]["body"] == {
        "offerType": "accrual", "offerSubtype": "dynamic", "name": "Premium Line Q1 — goal “individual” at 80%",
        "description": "Reach 80% of R$ 50,000.00.", "points": 500, "pointType": "point.premium_line_q1",
        "minimumSpend": 40000, "enabled": True, "online": False, "location": True,
    }
    assert plan["accrual_offers"][3]["per_unit"] == {"points": 1, "per": "100.00"}
    assert plan["accrual_offers"][3]["body"]["description"] == "1 point for every R$ 100.00 attained."
    assert plan["redemption_offers"] == [{"prize_id": "tv", "body": {
        "offerType": "redemption", "offerSubtype": "product", "name": "Smart TV 55\"",
        "description": "Redeem 1,000 points for “Smart TV 55\"”.", "points": 1000,
        "pointType": "point.premium_line_q1", "enabled": True, "imageUrl": None,
    }}]


def test_thresholds_that_pay_nothing_create_no_offer_and_quantity_goals_have_no_minimum_spend():
    document = copy.deepcopy(VALID)
    document["goals"] = [document["goals"][0] | {"metric": "quantity", "target": "150",
                                                  "rewards": [{"at_percent": 100, "points": 0}],
                                                  "points_per_unit": {"points": 2, "per": "1"}}]

    plan = tlp_action_plan(document=document, language="pt-br")

    assert len(plan["accrual_offers"]) == 1
    body = plan["accrual_offers"][0]["body"]
    assert "minimumSpend" not in body
    # the plan is written in the campaign's language (pt-BR here)
    assert (body["points"], body["description"]) == (2, "2 pontos a cada 1 atingidos.")
