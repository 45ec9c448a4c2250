"""What a rule document means, for the admin who reviews it: sentences in their language, and the TLP plan.

``rule_document_explain`` writes the goals, eligibility, prizes, accrual and caps as plain sentences (gettext;
en, pt-BR, es; dates and amounts in the language's formats). ``tlp_action_plan`` lists what would be created in
TLP: the campaign's point type, one accrual offer per goal threshold (and per continuous accrual), one
redemption offer per prize — bodies built by apps.tlp.wire, so field names are TLP's (offerType, offerSubtype,
pointType, minimumSpend, imageUrl, rank).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.rules.nl_lexicon import text_fold
from apps.tlp import wire

CURRENCY_SYMBOLS = {"BRL": "R$", "USD": "US$", "EUR": "€", "MXN": "MX$"}


def _money(value: str, currency: str) -> str:
    amount = formats.number_format(Decimal(value), decimal_pos=2, use_l10n=True, force_grouping=True)
    return f"{CURRENCY_SYMBOLS.get(currency, currency)} {amount}"


def _integer(value: int | str) -> str:
    return formats.number_format(int(value), decimal_pos=0, use_l10n=True, force_grouping=True)


def _date(value: str) -> str:
    return formats.date_format(dt.date.fromisoformat(value), "DATE_FORMAT")


def _names(values: list[str]) -> str:
    quoted = [f"“{value}”" for value in values]
    if len(quoted) == 1:
        return quoted[0]
    return _("%(first)s and %(last)s") % {"first": ", ".join(quoted[:-1]), "last": quoted[-1]}


def _scope(scope: str) -> str:
    return {
        "individual": _("each participant's own sales"),
        "team": _("each team's sales"),
        "region": _("each region's sales"),
        "company": _("the whole company's sales"),
    }[scope]


def _target(goal: dict[str, Any], currency: str) -> str:
    if goal["metric"] == "quantity":
        count = int(goal["target"])
        return ngettext("%(count)s unit", "%(count)s units", count) % {"count": _integer(count)}
    if goal["metric"] == "order_count":
        count = int(goal["target"])
        return ngettext("%(count)s order", "%(count)s orders", count) % {"count": _integer(count)}
    return _money(goal["target"], currency)


def _filters(filters: dict[str, list[str]]) -> list[str]:
    parts = []
    if filters["product_lines"]:
        parts.append(_("product lines %(names)s") % {"names": _names(filters["product_lines"])})
    if filters["categories"]:
        parts.append(_("categories %(names)s") % {"names": _names(filters["categories"])})
    if filters["skus"]:
        parts.append(_("SKUs %(names)s") % {"names": _names(filters["skus"])})
    if filters["regions"]:
        parts.append(_("regions %(names)s") % {"names": _names(filters["regions"])})
    return parts


def _goal_sentences(goal: dict[str, Any], currency: str) -> list[str]:
    filters = _filters(goal["filters"])
    values = {"id": goal["id"], "scope": _scope(goal["scope"]), "target": _target(goal, currency),
              "filters": "; ".join(filters)}
    if filters:
        sentences = [_("Goal “%(id)s”: %(scope)s must reach %(target)s, counting only %(filters)s.") % values]
    else:
        sentences = [_("Goal “%(id)s”: %(scope)s must reach %(target)s.") % values]
    for reward in goal["rewards"]:
        if reward["points"]:
            sentences.append(ngettext(
                "At %(percent)s%% of the target: %(points)s point.",
                "At %(percent)s%% of the target: %(points)s points.", reward["points"],
            ) % {"percent": reward["at_percent"], "points": _integer(reward["points"])})
    if sum(1 for reward in goal["rewards"] if reward["points"]) > 1:
        sentences.append(_("Only the highest threshold reached pays; thresholds do not add up."))
    per_unit = goal["points_per_unit"]
    if per_unit:
        per = (_money(per_unit["per"], currency) if goal["metric"] == "line_amount"
               else _integer(Decimal(per_unit["per"])))
        sentences.append(ngettext(
            "In addition, %(points)s point for every %(per)s attained, from the first sale.",
            "In addition, %(points)s points for every %(per)s attained, from the first sale.", per_unit["points"],
        ) % {"points": _integer(per_unit["points"]), "per": per})
    if goal["scope"] in ("team", "region", "company"):
        sentences.append(_("When the goal is reached, every eligible participant it covers earns the points."))
    return sentences


def _eligibility_sentences(eligibility: dict[str, Any], currency: str) -> list[str]:
    sentences = []
    if eligibility["employed_through_end"]:
        sentences.append(_("Participants must be employed until the last day of the campaign; anyone whose "
                           "employment ends earlier earns nothing."))
    statuses = {"cancelled": _("cancelled"), "returned": _("returned")}
    if eligibility["excluded_statuses"]:
        names = [statuses[status] for status in eligibility["excluded_statuses"]]
        joined = names[0] if len(names) == 1 else _("%(first)s or %(second)s") % {
            "first": names[0], "second": names[1]}
        sentences.append(_("Orders that are %(statuses)s do not count.") % {"statuses": joined})
    if eligibility["regions"]:
        sentences.append(_("Only participants of the regions %(names)s take part.") % {
            "names": _names(eligibility["regions"])})
    if eligibility["min_order_value"]:
        sentences.append(_("Orders below %(amount)s do not count.") % {
            "amount": _money(eligibility["min_order_value"], currency)})
    if eligibility["new_customers_only"]:
        sentences.append(_("Only sales to new customers (whose first order falls in the period) count."))
    if not sentences:
        sentences.append(_("Every participant and every order in the period takes part."))
    return sentences


def rule_document_explain(*, document: dict[str, Any], language: str) -> dict[str, Any]:
    """The document as sentences in ``language`` (en, pt-br, es): a summary, then goals, eligibility, prizes,
    caps and the questions the text left open."""
    with translation.override(language):
        currency = document["currency"]
        period = document["period"]
        summary = _("Campaign “%(name)s” runs from %(start)s to %(end)s; amounts are in %(currency)s.") % {
            "name": document["name"], "start": _date(period["start"]), "end": _date(period["end"]),
            "currency": currency}
        goals = [sentence for goal in document["goals"] for sentence in _goal_sentences(goal, currency)]
        eligibility = _eligibility_sentences(document["eligibility"], currency)
        prizes = [ngettext("“%(name)s” costs %(points)s point.", "“%(name)s” costs %(points)s points.",
                           prize["points_cost"]) % {"name": prize["name"], "points": _integer(prize["points_cost"])}
                  for prize in document["prizes"]]
        caps = []
        if document["caps"]["max_points_per_participant"]:
            caps.append(_("No participant can earn more than %(points)s points.") % {
                "points": _integer(document["caps"]["max_points_per_participant"])})
        if document["caps"]["budget_points"]:
            caps.append(_("The campaign awards at most %(points)s points in total.") % {
                "points": _integer(document["caps"]["budget_points"])})
        questions = [warning["question"] for warning in document["warnings"] if warning.get("question")]
        sections = {"goals": goals, "eligibility": eligibility, "prizes": prizes, "caps": caps,
                    "questions": questions}
        text = "\n".join([summary, *goals, *eligibility, *prizes, *caps])
        return {"language": language, "summary": summary, "sections": sections, "text": text}


def _point_type_code(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text_fold(name)).strip("_")[:50] or "campaign"
    return f"point.{slug}"


def _spend(goal: dict[str, Any], percent: int) -> int | float | None:
    if goal["metric"] != "line_amount":
        return None
    amount = Decimal(goal["target"]) * percent / 100
    return int(amount) if amount == amount.to_integral_value() else float(amount.quantize(Decimal("0.01")))


def tlp_action_plan(*, document: dict[str, Any], language: str) -> dict[str, Any]:
    """What TLP would get for this campaign: the point type, accrual offers per goal threshold (and per
    continuous accrual), redemption offers per prize. Nothing is sent: this is the plan an admin reviews."""
    with translation.override(language):
        name = document["name"]
        code = _point_type_code(name)
        point_type = wire.point_type_body(
            name=_("%(name)s points") % {"name": name},
            description=_("Points earned in the campaign “%(name)s”.") % {"name": name},
            rank=1, enabled=True, show_zero_balance=True,
        ) | {wire.F.CODE: code}
        accrual = []
        for goal in document["goals"]:
            for reward in goal["rewards"]:
                if not reward["points"]:
                    continue
                body = wire.offer_body(
                    offer_type=wire.OfferType.ACCRUAL, offer_subtype="dynamic",
                    name=_("%(name)s — goal “%(goal)s” at %(percent)s%%") % {
                        "name": name, "goal": goal["id"], "percent": reward["at_percent"]},
                    description=_("Reach %(percent)s%% of %(target)s.") % {
                        "percent": reward["at_percent"], "target": _target(goal, document["currency"])},
                    points=reward["points"], point_type=code, minimum_spend=_spend(goal, reward["at_percent"]),
                    enabled=True, online=False, location=True,
                )
                accrual.append({"goal_id": goal["id"], "at_percent": reward["at_percent"], "body": body})
            per_unit = goal["points_per_unit"]
            if per_unit:
                body = wire.offer_body(
                    offer_type=wire.OfferType.ACCRUAL, offer_subtype="dynamic",
                    name=_("%(name)s — goal “%(goal)s”, points per unit") % {"name": name, "goal": goal["id"]},
                    description=ngettext("%(points)s point for every %(per)s attained.",
                                         "%(points)s points for every %(per)s attained.", per_unit["points"]) % {
                        "points": _integer(per_unit["points"]),
                        "per": (_money(per_unit["per"], document["currency"]) if goal["metric"] == "line_amount"
                                else _integer(Decimal(per_unit["per"])))},
                    points=per_unit["points"], point_type=code, enabled=True, online=False, location=True,
                )
                accrual.append({"goal_id": goal["id"], "at_percent": 0, "per_unit": per_unit, "body": body})
        redemption = [
            {"prize_id": prize["id"], "body": wire.offer_body(
                offer_type=wire.OfferType.REDEMPTION, offer_subtype="product", name=prize["name"],
                description=_("Redeem %(points)s points for “%(name)s”.") % {
                    "points": _integer(prize["points_cost"]), "name": prize["name"]},
                points=prize["points_cost"], point_type=code, enabled=True,
            ) | {wire.F.IMAGE_URL: None}}
            for prize in document["prizes"]
        ]
    return {"point_type": point_type, "accrual_offers": accrual, "redemption_offers": redemption}
