"""The recognisers of the deterministic parser: what each clause says about periods, goals, accrual,
eligibility, caps, prizes and the campaign's name, and what it says that nothing understood.

Part of the deterministic parser (see nl_parse.py). ``clause_parse`` runs them on one clause, marking the spans
it understood; whatever else the clause says (not filler) becomes a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from apps.rules import nl_lexicon as lex
from apps.rules.document import COUNT_METRICS
from apps.rules.nl_clause import (
    ABOVE_GOAL_RE,
    BUDGET_RE,
    CANCELLED_RE,
    CAP_RE,
    EMPLOYMENT_RE,
    FROM_FIRST_RE,
    GOAL_RE,
    LAST_DAY_RE,
    MIN_ORDER_RE,
    NAME_RE,
    NEGATION,
    NEW_CUSTOMER_RE,
    PER_PARTICIPANT_RE,
    PER_UNIT_JOIN,
    PER_UNIT_WORD,
    PRIZE_VERB_RE,
    PT_TEAM_RE,
    QUOTED_NAME_RE,
    REACH_RE,
    RETURNED_RE,
    SALES_RE,
    SCOPE_RES,
    SECTION_RE,
    STOP,
    Clause,
    append_unique,
    filters_find,
    words_re,
)
from apps.rules.nl_lexicon import alternation, text_fold
from apps.rules.nl_tokens import Period, Token, amount_tokens, percent_tokens, period_find, points_tokens


def warning_make(code: str, language: str, **values: Any) -> dict[str, Any]:
    message, question = lex.MESSAGES[code][language]
    return {"code": code, "message": message.format(**values),
            "question": question.format(**values) if question else None}



@dataclass
class Pending:
    """Points stated apart from their goal ("reaching the regional goal earns 500 points"), applied at the
    end, when every goal is known."""

    scopes: list[str]
    context: list[str]  # the scopes of the goal created just before, on the same line
    rewards: list[dict[str, int]]
    per_unit: dict[str, str] | None
    per_unit_kind: str | None
    above_goal: bool  # "1 point per R$ 10 above the goal": the document counts every sale (asked about)
    text: str


@dataclass
class ParseState:
    language: str
    document: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)
    pending: list[Pending] = field(default_factory=list)
    global_filters: dict[str, list[str]] = field(
        default_factory=lambda: {"product_lines": [], "categories": [], "skus": []})
    conditions: dict[str, str] = field(default_factory=dict)  # concept → the text that needs it
    named: bool = False
    money_seen: bool = False
    # The scopes of the goals the last goal clause created, and its line: "Meta individual: R$ 50 mil; ao
    # atingir a meta, 1.000 pontos" gives the points to that goal.
    last_goals: tuple[int, list[str]] = (-1, [])

    def warn(self, code: str, **values: Any) -> None:
        warning = warning_make(code, self.language, **values)
        if warning not in self.warnings:
            self.warnings.append(warning)


def _money_text(token: Token) -> str:
    return f"{token.currency or ''} {token.value:,.2f}".strip()


def _amount(value: Decimal, *, counted: bool) -> str:
    return str(int(value)) if counted else f"{value.quantize(Decimal('0.01'))}"

# ------------------------------------------------------------------------------------------------ recognisers


def _scope_mentions(clause: Clause, language: str) -> list[tuple[int, str, tuple[int, int]]]:
    mentions = []
    for scope, pattern in SCOPE_RES.items():
        for match in clause.search(pattern):
            mentions.append((match.start(), scope, match.span()))
    if language == "pt-br":
        for match in clause.search(PT_TEAM_RE):
            mentions.append((match.start(), "team", match.span()))
    mentions.sort()
    unique: list[tuple[int, str, tuple[int, int]]] = []
    for mention in mentions:
        if unique and mention[0] < unique[-1][2][1]:
            continue
        if any(scope == mention[1] for _start, scope, _span in unique):
            clause.take(*mention[2])  # "each salesperson … the individual goal": one goal, said twice
            continue
        unique.append(mention)
    return unique


def _period_recognise(clause: Clause, state: ParseState) -> None:
    periods = period_find(clause.fold, clause.used, state.language)
    state.periods.extend(periods)


def _eligibility_recognise(clause: Clause, state: ParseState, amounts: list[Token]) -> None:
    eligibility = state.document["eligibility"]
    if clause.has(EMPLOYMENT_RE) and clause.has(LAST_DAY_RE):
        eligibility["employed_through_end"] = True
        clause.take_all(EMPLOYMENT_RE)
        clause.take_all(LAST_DAY_RE)
        state.conditions.setdefault("employment_end", clause.text)
    negated = bool(NEGATION.search(clause.fold))
    if negated or clause.section == "eligibility":
        for status, pattern in (("cancelled", CANCELLED_RE), ("returned", RETURNED_RE)):
            if clause.take_all(pattern):
                append_unique(eligibility["excluded_statuses"], [status])
                state.conditions.setdefault(f"status:{status}", clause.text)
    if clause.take_all(NEW_CUSTOMER_RE):
        eligibility["new_customers_only"] = True
        state.conditions.setdefault("customer", clause.text)
    for match in clause.search(MIN_ORDER_RE):
        token = next((token for token in amounts if token.start >= match.end()
                      and not clause.fold[match.end():token.start].strip(" :")
                      and token.kind in ("money", "number")), None)
        if token is None:
            continue
        eligibility["min_order_value"] = _amount(token.value, counted=False)
        _note_currency(state, token)
        clause.take(match.start(), token.end)
        amounts.remove(token)
        state.conditions.setdefault("min_order", clause.text)


def _note_currency(state: ParseState, token: Token) -> None:
    state.money_seen = True
    if token.currency:
        state.currencies.append(token.currency)


def _caps_recognise(clause: Clause, state: ParseState, points: list[Token], amounts: list[Token]) -> None:
    caps = state.document["caps"]
    if points and clause.has(PER_PARTICIPANT_RE) and clause.has(CAP_RE):
        token = points.pop(0)
        caps["max_points_per_participant"] = int(token.value)
        clause.take(token.start, token.end)
        clause.take_all(PER_PARTICIPANT_RE)
        clause.take_all(CAP_RE)
        return
    if clause.has(BUDGET_RE):
        if points:
            token = points.pop(0)
            caps["budget_points"] = int(token.value)
            clause.take(token.start, token.end)
            clause.take_all(BUDGET_RE)
        elif any(token.kind == "money" for token in amounts):
            token = next(token for token in amounts if token.kind == "money")
            amounts.remove(token)
            clause.take(token.start, token.end)
            clause.take_all(BUDGET_RE)
            state.warn("budget_in_money", amount=_money_text(token))


def _per_unit_recognise(clause: Clause, state: ParseState, points: list[Token], amounts: list[Token],
                        scopes: list[str]) -> bool:
    for token in list(points):
        tail = clause.fold[token.end:]
        word = PER_UNIT_WORD.match(tail)
        per_token = next((amount for amount in amounts if amount.start >= token.end
                          and PER_UNIT_JOIN.match(clause.fold[token.end:amount.start])), None)
        if per_token is not None:
            kind = "quantity" if per_token.kind in ("quantity", "orders") else "money"
            per = _amount(per_token.value, counted=kind == "quantity")
            if per_token.kind == "money":
                _note_currency(state, per_token)
            end = per_token.end
            amounts.remove(per_token)
        elif word:
            kind = "quantity" if word.group("word") in ("unit", "unidade", "unidad", "item", "order", "pedido",
                                                         "orden") else "money"
            per = "1" if kind == "quantity" else "1.00"
            end = token.end + word.end()
        else:
            continue
        points.remove(token)
        above_goal = bool(ABOVE_GOAL_RE.search(clause.fold))
        clause.take(token.start, end)
        clause.take_all(ABOVE_GOAL_RE)
        clause.take_all(FROM_FIRST_RE)
        state.pending.append(Pending(scopes, _scopes_in_context(clause, state), [],
                                      {"points": int(token.value), "per": per}, kind, above_goal, clause.text))
        return True
    return False


def _rewards_from(clause: Clause, points: list[Token], percents: list[Token]) -> list[dict[str, int]]:
    """Pair thresholds and points in the order written ("80%: 500 points, 100%: 1,000 points" or
    "500 points at 80%"); points with no percent pay at 100 % of the goal."""
    rewards: list[dict[str, int]] = []
    if percents and len(percents) == len(points):
        for percent, point in zip(percents, points, strict=True):
            rewards.append({"at_percent": int(percent.value), "points": int(point.value)})
            clause.take(percent.start, percent.end)
            clause.take(point.start, point.end)
    elif len(points) == 1 and not percents:
        rewards.append({"at_percent": 100, "points": int(points[0].value)})
        clause.take(points[0].start, points[0].end)
    else:
        return []
    points.clear()
    percents.clear()
    return sorted(rewards, key=lambda reward: reward["at_percent"])


def _goal_recognise(clause: Clause, state: ParseState, amounts: list[Token], points: list[Token],
                    percents: list[Token], mentions: list[tuple[int, str, tuple[int, int]]]) -> bool:
    targets = [token for token in amounts if token.kind in ("money", "number", "quantity", "orders")]
    goal_words = clause.search(GOAL_RE)
    is_goal = bool(targets) and (bool(goal_words) or clause.section == "goals"
                                 or (bool(mentions) and (clause.has(SALES_RE) or any(
                                     token.kind == "money" for token in targets))))
    if not is_goal:
        return False
    for match in goal_words:
        clause.take(*match.span())
    clause.take_all(SALES_RE)
    goals = state.document["goals"]
    created = []
    if not mentions:
        state.warn("ambiguous_scope", text=clause.text)
        mentions = [(targets[0].start, "individual", (targets[0].start, targets[0].start))]
    for position, (_start, scope, span) in enumerate(mentions):
        clause.take(*span)
        if position >= len(targets):
            state.warn("missing_target", goal=lex.GOAL_LABELS[lex.SCOPE_IDS[scope]][state.language])
            continue
        token = targets[position]
        metric = {"quantity": "quantity", "orders": "order_count"}.get(token.kind, "line_amount")
        if metric == "line_amount":
            _note_currency(state, token)
        clause.take(token.start, token.end)
        amounts.remove(token)
        base_id = lex.SCOPE_IDS[scope]
        goal_id, suffix = base_id, 2
        while any(goal["id"] == goal_id for goal in goals):
            goal_id, suffix = f"{base_id}_{suffix}", suffix + 1
        goal = {
            "id": goal_id, "scope": scope, "metric": metric,
            "target": _amount(token.value, counted=metric in COUNT_METRICS),
            "filters": {"product_lines": [], "categories": [], "skus": [], "regions": []},
            "rewards": [], "points_per_unit": None,
        }
        goals.append(goal)
        created.append(goal)
    filters = filters_find(clause)
    state.last_goals = (clause.line, [goal["scope"] for goal in created])
    for goal in created:
        for key, values in filters.items():
            append_unique(goal["filters"][key], values)
    if created and points:
        if len(created) == 1:
            created[0]["rewards"] = _rewards_from(clause, points, percents)
        elif len(points) == len(created) and not percents:
            for goal, token in zip(created, list(points), strict=True):
                goal["rewards"] = [{"at_percent": 100, "points": int(token.value)}]
                clause.take(token.start, token.end)
            points.clear()
    return True


def _accrual_recognise(clause: Clause, state: ParseState, points: list[Token], percents: list[Token],
                       mentions: list[tuple[int, str, tuple[int, int]]]) -> bool:
    if not points:
        return False
    context = _scopes_in_context(clause, state)
    refers_to_goal = bool(clause.search(GOAL_RE)) or bool(mentions) or bool(percents) or (
        bool(context) and (clause.has(REACH_RE) or _only_points(clause, points)))
    if not refers_to_goal:
        return False
    rewards = _rewards_from(clause, points, percents)
    if not rewards:
        return False
    clause.take_all(GOAL_RE)
    clause.take_all(REACH_RE)
    for _start, _scope, span in mentions:
        clause.take(*span)
    state.pending.append(Pending([scope for _start, scope, _span in mentions], context, rewards, None, None, False,
                                  clause.text))
    return True


def _only_points(clause: Clause, points: list[Token]) -> bool:
    """True when the clause says nothing but its points ("…; 1,000 points")."""
    for start, end, word in clause.words:
        inside = any(token.start <= start and end <= token.end for token in points)
        if not inside and clause.free(start, end) and word not in lex.FILLER:
            return False
    return True


def _scopes_in_context(clause: Clause, state: ParseState) -> list[str]:
    """A clause that names no goal refers to the goal created just before it on the same line, if one."""
    line, scopes = state.last_goals
    return scopes if line == clause.line and len(scopes) == 1 else []


_PRIZE_EDGE = re.compile(
    rf"^(?:\s|[:=\-–—(),]|\b(?:{alternation(re.escape(word) for word in lex.PRIZE_VERBS + lex.ARTICLES)}|for|por|"
    rf"para|with|com|con|in|em|en|points?|pontos?|puntos?|prizes?|premios?|premio|you|can|voce|pode|puede|"
    rf"participants?|participantes?)\b)+|(?:\s|[:=\-–—(),]|\b(?:for|por|para|at|costs?|custa|cuesta|vale|"
    rf"worth)\b)+$"
)


def _prize_recognise(clause: Clause, state: ParseState, points: list[Token], percents: list[Token],
                     mentions: list[tuple[int, str, tuple[int, int]]]) -> None:
    if not points or percents or mentions or clause.has(GOAL_RE):
        return
    shaped = clause.section == "prizes" or clause.has(PRIZE_VERB_RE) or bool(
        re.search(r"[:=\-–—(]", clause.text))
    if not shaped:
        return
    tokens = sorted(points, key=lambda token: token.start)
    for index, token in enumerate(tokens):
        # The name is next to its points: after them ("50,000 points: Vacation") or before ("Vacation: 50,000").
        previous_end = tokens[index - 1].end if index else 0
        next_start = tokens[index + 1].start if index + 1 < len(tokens) else len(clause.text)
        after = _prize_name(clause, token.end, next_start, side="after")
        before = _prize_name(clause, previous_end, token.start, side="before")
        points_first = clause.text[token.end:].lstrip()[:1] in (":", "=", "-", "–", "—")
        name, span = after if after[0] and (not before[0] or points_first) else before
        if not name:
            continue
        prize_id = _slug(name)
        existing = {prize["id"] for prize in state.document["prizes"]}
        candidate, suffix = prize_id, 2
        while candidate in existing:
            candidate, suffix = f"{prize_id[:36]}_{suffix}", suffix + 1
        state.document["prizes"].append({"id": candidate, "name": name, "points_cost": int(token.value)})
        clause.take(token.start, token.end)
        clause.take(*span)
        points.remove(token)
    if not points:
        clause.take_all(words_re(("prizes", "prize", "premios", "premio", "rewards", "reward")))
        clause.take_all(PRIZE_VERB_RE)


_PRIZE_SEPARATOR = re.compile(r";|,\s|\s(?:and|e|y)\s")


def _prize_name(clause: Clause, start: int, end: int, *, side: str) -> tuple[str, tuple[int, int]]:
    """The prize's name in fold[start:end]: the part nearest the points, up to a separator between prizes
    ("…, 100,000 points: Concert tickets"), without joining words, articles or punctuation at its edges."""
    separators = list(_PRIZE_SEPARATOR.finditer(clause.fold, start, end))
    if separators and side == "after":
        end = separators[0].start()
    elif separators and side == "before":
        start = separators[-1].end()
    fold = clause.fold[start:end]
    while True:
        trimmed = _PRIZE_EDGE.sub("", fold)
        if trimmed == fold:
            break
        fold = trimmed
    if not fold.strip():
        return "", (start, start)
    offset = clause.fold.find(fold, start, end)
    name = clause.text[offset:offset + len(fold)].strip()
    if len(name) > 1 and name[0] in "\"'“" and name[-1] in "\"'”":
        name = name[1:-1].strip()
    return name[:200], (offset, offset + len(fold))


def _slug(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", text_fold(name))
    slug = "_".join(words)[:40].strip("_") or "prize"
    return slug if slug[0].isalpha() else f"prize_{slug}"[:40]


def _name_recognise(clause: Clause, state: ParseState) -> bool:
    match = NAME_RE.match(clause.fold)
    if match and not state.named:
        state.document["name"] = clause.text[match.start("name"):].strip()[:200]
        state.named = True
        clause.take(0, len(clause.text))
        return True
    quoted = QUOTED_NAME_RE.search(clause.fold)
    if quoted and not state.named:
        state.document["name"] = clause.text[quoted.start("name"):quoted.end("name")].strip()[:200]
        state.named = True
        clause.take(quoted.start(), quoted.end() + 1)
    return False


_TITLE_RE = re.compile(r"^(?P<title>[^,:;.]{2,120}?)\s*,\s*(?P<rest>\S.*)$")


def title_recognise(clause: Clause, state: ParseState) -> None:
    """ "Volume push, from February 1 to April 30, 2026": the words before a period that opens the text
    are the campaign's name."""
    match = _TITLE_RE.match(clause.fold)
    if not match or state.named:
        return
    title = match.group("title")
    rest_used = bytearray(len(match.group("rest")))
    if not period_find(match.group("rest"), rest_used, state.language) or GOAL_RE.search(title) \
            or (re.search(r"\d", title) and not re.search(r"\b(?:q[1-4]|t[1-4]|20\d\d)\b", title)):
        return
    words = re.findall(r"[a-z0-9]+", title)
    if all(word in lex.FILLER for word in words):
        return
    state.document["name"] = clause.text[:match.end("title")].strip()[:200]
    state.named = True
    clause.take(0, match.end("title"))


def _leftover(clause: Clause) -> str | None:
    """The text of the clause that no recogniser took and that is not filler, or None."""
    runs: list[list[int]] = [[]]
    for index, (start, end, _word) in enumerate(clause.words):
        if not clause.free(start, end):
            runs.append([])
            continue
        runs[-1].append(index)
    pieces = []
    for run in runs:
        content = [index for index in run if clause.words[index][2] not in lex.FILLER]
        if not content:
            continue
        while run and clause.words[run[0]][2] in STOP:
            run = run[1:]
        while run and clause.words[run[-1]][2] in STOP:
            run = run[:-1]
        pieces.append(clause.text[clause.words[run[0]][0]:clause.words[run[-1]][1]])
    return " … ".join(pieces) if pieces else None


def clause_parse(clause: Clause, state: ParseState) -> None:
    if _name_recognise(clause, state):
        return
    header = SECTION_RE.match(clause.fold)
    if header:
        clause.take(*header.span("header"))
    _period_recognise(clause, state)
    percents = percent_tokens(clause.fold, clause.used)
    for token in percents:
        clause.used[token.start:token.end] = b"\x02" * (token.end - token.start)  # reserve; taken when used
    points = points_tokens(clause.fold, clause.used)
    for token in points:
        clause.used[token.start:token.end] = b"\x02" * (token.end - token.start)
    amounts = amount_tokens(clause.fold, clause.used)
    for token in percents + points:
        clause.used[token.start:token.end] = b"\x00" * (token.end - token.start)

    _eligibility_recognise(clause, state, amounts)
    _caps_recognise(clause, state, points, amounts)
    mentions = _scope_mentions(clause, state.language)
    scopes = [scope for _start, scope, _span in mentions]
    if _per_unit_recognise(clause, state, points, amounts, scopes):
        for _start, _scope, span in mentions:
            clause.take(*span)
        clause.take_all(GOAL_RE)
        clause.take_all(SALES_RE)
    if not _goal_recognise(clause, state, amounts, points, percents, mentions):
        _accrual_recognise(clause, state, points, percents, mentions)
        _prize_recognise(clause, state, points, percents, mentions)
        if not NEGATION.search(clause.fold):
            filters = filters_find(clause)
            for key in ("product_lines", "categories", "skus"):
                append_unique(state.global_filters[key], filters[key])
            append_unique(state.document["eligibility"]["regions"], filters["regions"])
    leftover = _leftover(clause)
    if leftover:
        state.warn("unrecognized_text", text=leftover)


