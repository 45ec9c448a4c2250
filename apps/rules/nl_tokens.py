"""Tokens of campaign text: amounts, points, percents, dates and periods, found in folded text.

Every function takes the text as ``text_fold`` returns it (lower case, no accents, positions unchanged) and
returns tokens with their spans, so the parser can mark what it understood and report the rest.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from apps.rules.nl_lexicon import (
    CURRENCY_PREFIXES,
    CURRENCY_SUFFIXES,
    MONTHS,
    MULTIPLIERS,
    ORDER_WORDS,
    ORDINALS,
    POINT_WORDS,
    RANGE_JOINERS,
    RANGE_OPENERS,
    UNIT_WORDS,
    alternation,
)


@dataclass
class Token:
    """A span of a clause with a meaning: kind is money | number | quantity | orders | points | percent."""

    kind: str
    start: int
    end: int
    value: Decimal
    currency: str | None = None  # money only; "$" when only a bare dollar sign was written
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Period:
    start: dt.date | None
    end: dt.date | None
    spans: list[tuple[int, int]]
    text: str
    quarter: tuple[int, int] | None = None  # (quarter, year) when the period is a calendar quarter
    invalid: str | None = None  # the text of a date that does not exist


# ------------------------------------------------------------------------------------------------ numbers
NUMBER_CORE = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
NUMBER = rf"(?<![\w.,/-])({NUMBER_CORE})(?!\d)"
_MULTIPLIER = alternation(MULTIPLIERS)
_PREFIX = alternation(re.escape(prefix) for prefix in CURRENCY_PREFIXES)
_SUFFIX = alternation([re.escape(suffix) for suffix in CURRENCY_SUFFIXES] + ["€"])

POINTS_RE = re.compile(rf"{NUMBER}(?:\s*({_MULTIPLIER})\b)?\s*(?:de\s+)?(?:{alternation(POINT_WORDS)})\b")
PERCENT_RE = re.compile(rf"{NUMBER}\s*(?:%|percent\b|per cent\b|por\s*cento\b|por\s*ciento\b|pct\b)")
AMOUNT_RE = re.compile(
    rf"(?:(?P<prefix>{_PREFIX})\s*)?(?<![\w.,/-])(?P<number>{NUMBER_CORE})(?!\d)"
    rf"(?:\s*(?P<mult>{_MULTIPLIER})\b)?"
    rf"(?:\s*(?:de\s+)?(?P<suffix>{_SUFFIX})(?![a-z]))?"
)
_COUNT_RE = re.compile(rf"\s*({alternation(UNIT_WORDS)}|{alternation(ORDER_WORDS)})\b")


def number_parse(raw: str) -> Decimal:
    """ "50,000" / "50.000" → 50000; "1,5" / "1.5" → 1.5; "1.234,56" → 1234.56 (the last separator of two
    kinds is the decimal one; a single separator followed by exactly three digits groups thousands)."""
    separators = [char for char in raw if char in ".,"]
    if not separators:
        return Decimal(raw)
    if len(set(separators)) == 2:
        decimal_mark = separators[-1]
        thousands = "," if decimal_mark == "." else "."
        return Decimal(raw.replace(thousands, "").replace(decimal_mark, "."))
    mark = separators[0]
    if len(separators) > 1 or len(raw.rsplit(mark, 1)[1]) == 3:
        return Decimal(raw.replace(mark, ""))
    return Decimal(raw.replace(mark, "."))


def _scaled(number: str, multiplier: str | None) -> Decimal:
    value = number_parse(number)
    return value * MULTIPLIERS[multiplier] if multiplier else value


def _free(used: bytearray, start: int, end: int) -> bool:
    return not any(used[start:end])


_POINTS_LIST_RE = re.compile(rf"(?<![\w.,/-])({NUMBER_CORE})(?:\s*({_MULTIPLIER})\b)?\s*(?:and|e|y|&)\s*$")


def points_tokens(fold: str, used: bytearray) -> list[Token]:
    """ "1,000 points", "50 mil pontos", and each number of a list "1,000 and 5,000 points"."""
    tokens = []
    for match in POINTS_RE.finditer(fold):
        if not _free(used, match.start(), match.end()):
            continue
        tokens.append(Token("points", match.start(), match.end(), _scaled(match.group(1), match.group(2))))
        cursor = match.start()
        while (previous := _POINTS_LIST_RE.search(fold, 0, cursor)) and _free(used, previous.start(), cursor):
            end = previous.end(2) if previous.group(2) else previous.end(1)
            tokens.append(Token("points", previous.start(), end, _scaled(previous.group(1), previous.group(2))))
            cursor = previous.start()
    return sorted(tokens, key=lambda token: token.start)


def percent_tokens(fold: str, used: bytearray) -> list[Token]:
    return [Token("percent", match.start(), match.end(), number_parse(match.group(1)))
            for match in PERCENT_RE.finditer(fold) if _free(used, match.start(), match.end())]


def amount_tokens(fold: str, used: bytearray) -> list[Token]:
    """Money ("R$ 50 mil", "10,000 US dollars"), quantities ("200 units"), order counts ("100 pedidos") and
    bare numbers, in the free parts of the clause."""
    tokens = []
    for match in AMOUNT_RE.finditer(fold):
        start, end = match.start(), match.end()
        if not _free(used, start, end):
            continue
        value = _scaled(match.group("number"), match.group("mult"))
        prefix, suffix = match.group("prefix"), match.group("suffix")
        currency = None
        if prefix:
            currency = CURRENCY_PREFIXES[prefix] or "$"
        if suffix:
            currency = "EUR" if suffix == "€" else CURRENCY_SUFFIXES[suffix]
        kind = "money" if currency else "number"
        if not currency:
            count = _COUNT_RE.match(fold, end)
            if count:
                kind = "orders" if count.group(1) in ORDER_WORDS else "quantity"
                end = count.end()
        if kind == "number" and not prefix and not match.group("mult") and len(match.group("number")) == 4 \
                and 1900 <= value <= 2100:
            continue  # a year the period patterns did not take ("2026" alone) is not an amount
        tokens.append(Token(kind, start, end, value, currency))
    return tokens


# ------------------------------------------------------------------------------------------------ dates
_FULL_MONTHS = [name for name in MONTHS if len(name) > 3 and name not in ("sept", "mayo")] + ["mayo", "may"]
_ANY_MONTH = alternation(MONTHS)
_ORDINAL = alternation(re.escape(word) for word in ORDINALS)
_DAY_SUFFIX = r"(?:st|nd|rd|th|o|a|er|\.o|\.er)?"

_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")),
    ("numeric", re.compile(r"(?<![\d.,])(\d{1,2})[/-](\d{1,2})[/-](\d{4}|\d{2})\b")),
    ("mdy", re.compile(rf"\b({_ANY_MONTH})\.?\s+(\d{{1,2}}){_DAY_SUFFIX}\b(?!\s*(?:de|del|of)?\s*\d)"
                       rf"(?:,?\s+(\d{{4}})\b)?")),
    ("mdy_year", re.compile(rf"\b({_ANY_MONTH})\.?\s+(\d{{1,2}}){_DAY_SUFFIX},?\s+(\d{{4}})\b")),
    ("dmy", re.compile(rf"\b(\d{{1,2}}){_DAY_SUFFIX}\s+(?:de\s+|of\s+)?({_ANY_MONTH})\b\.?"
                       rf"(?:,?\s+(?:de\s+|del\s+)?(\d{{4}})\b)?")),
    ("month_year", re.compile(rf"\b({_ANY_MONTH})\.?(?:\s+(?:de|del|of)\s+|\s+|/)(\d{{4}})\b")),
    ("month", re.compile(rf"\b({alternation(_FULL_MONTHS)})\b")),
]
_QUARTER_PATTERNS = [
    re.compile(r"\bq([1-4])\s*[/-]?\s*(\d{4})\b"),
    re.compile(r"\b(\d{4})\s*[/-]?\s*q([1-4])\b"),
    re.compile(r"\b[t]([1-4])\s*[/-]?\s*(\d{4})\b"),
    re.compile(rf"(?<![\w])({_ORDINAL})\s*(?:quarter|trimestre)\s+(?:of\s+|de\s+|del\s+)?(\d{{4}})\b"),
]
_HALF_PATTERNS = [
    re.compile(r"\bh([12])\s*[/-]?\s*(\d{4})\b"),
    re.compile(rf"(?<![\w])({_ORDINAL})\s*(?:half|semestre)\s+(?:of\s+|de\s+|del\s+)?(\d{{4}})\b"),
]
_YEAR_PATTERN = re.compile(
    r"\b(?:during|throughout|in the year|the year|full year|calendar year|o ano de|ano de|ano|el ano|"
    r"todo el ano|todo o ano de|todo o ano|year)\s+(\d{4})\b"
)
_OPENER_RE = re.compile(rf"(?:\b(?:{alternation(RANGE_OPENERS)})\s*)$")
_JOINER_RE = re.compile(rf"^\s*(?:{alternation(re.escape(joiner) for joiner in RANGE_JOINERS)})\s*$")
_END_OPENER_RE = re.compile(r"(?:\b(?:until|till|through|ending|ends|ate|hasta|termina em|termina el)\s*)$")


@dataclass
class _DateToken:
    start: int
    end: int
    year: int | None
    month: int
    day: int | None


def _year(raw: str | None) -> int | None:
    if not raw:
        return None
    year = int(raw)
    return 2000 + year if year < 100 else year


def _date_tokens(fold: str, used: bytearray, language: str) -> list[_DateToken]:
    found: list[_DateToken] = []
    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(fold):
            if not _free(used, match.start(), match.end()):
                continue
            groups = match.groups()
            if kind == "iso":
                year, month, day = int(groups[0]), int(groups[1]), int(groups[2])
            elif kind == "numeric":
                first, second = int(groups[0]), int(groups[1])
                month_first = language == "en"
                if month_first and first > 12 >= second:
                    month_first = False
                elif not month_first and second > 12 >= first:
                    month_first = True
                month, day = (first, second) if month_first else (second, first)
                year = _year(groups[2])
            elif kind in ("mdy", "mdy_year"):
                month, day, year = MONTHS[groups[0]], int(groups[1]), _year(groups[2])
            elif kind == "dmy":
                day, month, year = int(groups[0]), MONTHS[groups[1]], _year(groups[2])
            elif kind == "month_year":
                month, day, year = MONTHS[groups[0]], None, _year(groups[1])
            else:
                month, day, year = MONTHS[groups[0]], None, None
            found.append(_DateToken(match.start(), match.end(), year, month, day))
    found.sort(key=lambda token: (token.start, -(token.end - token.start)))
    chosen: list[_DateToken] = []
    for token in found:
        if chosen and token.start < chosen[-1].end:
            continue
        chosen.append(token)
    return chosen


def _make_date(year: int | None, month: int, day: int | None, *, last: bool) -> dt.date | None:
    if year is None:
        return None
    if day is None:
        day = calendar.monthrange(year, month)[1] if last else 1
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _quarter(number: int, year: int) -> tuple[dt.date, dt.date]:
    start_month = 3 * (number - 1) + 1
    end_month = start_month + 2
    return dt.date(year, start_month, 1), dt.date(year, end_month, calendar.monthrange(year, end_month)[1])


def period_find(fold: str, used: bytearray, language: str) -> list[Period]:
    """Periods written in the clause: quarters, halves, whole years, date ranges, single months or dates.

    A lone date (no other end) becomes a Period with the other end None. Spans found are marked in ``used``.
    """
    periods: list[Period] = []

    def take(start: int, end: int) -> None:
        used[start:end] = b"\x01" * (end - start)

    for pattern in _QUARTER_PATTERNS:
        for match in pattern.finditer(fold):
            if not _free(used, match.start(), match.end()):
                continue
            first, second = match.groups()
            if pattern is _QUARTER_PATTERNS[1]:
                first, second = second, first
            number = ORDINALS.get(first, 0) if not first.isdigit() else int(first)
            if not 1 <= number <= 4:
                continue
            start, end = _quarter(number, int(second))
            periods.append(Period(start, end, [match.span()], match.group(0), quarter=(number, int(second))))
            take(*match.span())
    for pattern in _HALF_PATTERNS:
        for match in pattern.finditer(fold):
            if not _free(used, match.start(), match.end()):
                continue
            first, second = match.groups()
            number = ORDINALS.get(first, 0) if not first.isdigit() else int(first)
            if number not in (1, 2):
                continue
            year = int(second)
            start = dt.date(year, 1 if number == 1 else 7, 1)
            end = dt.date(year, 6, 30) if number == 1 else dt.date(year, 12, 31)
            periods.append(Period(start, end, [match.span()], match.group(0)))
            take(*match.span())
    for match in _YEAR_PATTERN.finditer(fold):
        if _free(used, match.start(), match.end()):
            year = int(match.group(1))
            periods.append(Period(dt.date(year, 1, 1), dt.date(year, 12, 31), [match.span()], match.group(0)))
            take(*match.span())

    tokens = _date_tokens(fold, used, language)
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        opener = _OPENER_RE.search(fold, 0, token.start)
        span_start = opener.start() if opener else token.start
        if following and _JOINER_RE.match(fold[token.end:following.start]):
            end_year = following.year
            start_year = token.year
            if start_year is None and end_year is not None:
                start_year = end_year - 1 if token.month > following.month else end_year
            if end_year is None and start_year is not None:
                end_year = start_year + 1 if following.month < token.month else start_year
            start = _make_date(start_year, token.month, token.day, last=False)
            end = _make_date(end_year, following.month, following.day, last=True)
            text = fold[span_start:following.end]
            invalid = None
            if start is None or end is None:  # a range with a day that does not exist: neither end is trusted
                invalid, start, end = fold[token.start:following.end], None, None
            periods.append(Period(start, end, [(span_start, following.end)], text, invalid=invalid))
            take(span_start, following.end)
            index += 2
            continue
        text = fold[span_start:token.end]
        if token.day is None and token.year is not None:
            start = _make_date(token.year, token.month, None, last=False)
            end = _make_date(token.year, token.month, None, last=True)
            periods.append(Period(start, end, [(span_start, token.end)], text))
        else:
            date = _make_date(token.year, token.month, token.day, last=False)
            invalid = None if date else fold[token.start:token.end]
            end_opener = _END_OPENER_RE.search(fold, 0, token.start)
            if end_opener:
                span_start = end_opener.start()
                periods.append(Period(None, date, [(span_start, token.end)], text, invalid=invalid))
            else:
                periods.append(Period(date, None, [(span_start, token.end)], text, invalid=invalid))
        take(span_start, token.end)
        index += 1
    return periods
