"""Campaign text cut into clauses, and the names a clause gives: product lines, categories, SKUs, regions.

Part of the deterministic parser (see nl_parse.py). A ``Clause`` keeps its text, the same text folded (lower
case, no accents, same positions) and a mask of the characters recognisers have understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from apps.rules import nl_lexicon as lex
from apps.rules.nl_lexicon import alternation, text_fold

_BULLET = re.compile(r"^\s*(?:[-*•·–—]|\d{1,2}[.)]|[a-z][.)])\s+", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[;!?])\s+|(?<=[^\d\s][.])\s+(?=\S)|(?<=\d[.])\s+(?=[A-ZÀ-Ý])")
_WORD = re.compile(r"[a-z0-9][a-z0-9&+'-]*")
# Function words a reported fragment need not start or end with.
_STOP_WORDS = """a an the of in on at to for from by with and or e ou y o u de da do das dos em no na nos nas ao aos
el la los las del al con para por que se"""
STOP = frozenset(_STOP_WORDS.split())
_CONJUNCTIONS = frozenset({"and", "or", "e", "ou", "y", "o", "u"})
NEGATION = re.compile(r"\b(?:not|no|never|except|excluding|exclude|excluded|nao|nunca|exceto|excluindo|"
                       r"excluidos|excluidas|excluido|excluida|sem|fora|excepto|salvo|menos|sin|excluyendo|"
                       r"ineligible|inelegiveis|don't|doesn't|won't)\b")


def words_re(words: tuple[str, ...] | list[str] | set[str]) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w$])(?:{alternation(re.escape(word) for word in words)})(?![\w])")


GOAL_RE = words_re(lex.GOAL_WORDS)
SALES_RE = words_re(lex.SALES_WORDS)
SCOPE_RES = {scope: words_re(words) for scope, words in lex.SCOPE_WORDS.items()}
PT_TEAM_RE = words_re(("time", "do time", "por time"))
EMPLOYMENT_RE = words_re(lex.EMPLOYMENT_WORDS)
LAST_DAY_RE = words_re(lex.LAST_DAY_WORDS)
CANCELLED_RE = words_re(lex.CANCELLED_WORDS)
RETURNED_RE = words_re(lex.RETURNED_WORDS)
NEW_CUSTOMER_RE = words_re(lex.NEW_CUSTOMER_WORDS)
MIN_ORDER_RE = words_re(lex.MIN_ORDER_WORDS)
CAP_RE = words_re(lex.CAP_WORDS)
PER_PARTICIPANT_RE = words_re(lex.PER_PARTICIPANT_WORDS)
BUDGET_RE = words_re(lex.BUDGET_WORDS)
PRIZE_VERB_RE = words_re(lex.PRIZE_VERBS)
ABOVE_GOAL_RE = re.compile(
    r"\b(?:above|over|beyond|exceeding|in excess of|acima|alem|por encima|mas alla|que exceda|que supere|"
    r"que passar)\b(?:\s+[a-z]+){0,3}?\s+(?:goal|target|quota|meta|objetivo|cuota|alvo)\b"
)
REACH_RE = words_re(lex.REACH_WORDS)
FROM_FIRST_RE = words_re(lex.FROM_FIRST_SALE_WORDS)
PER_UNIT_JOIN = re.compile(r"^\s*(?:per|for every|for each|every|each|a cada|por cada|para cada|cada|por|=)\s*$")
PER_UNIT_WORD = re.compile(
    r"^\s*(?:per|for every|for each|every|each|a cada|por cada|para cada|cada|por)\s+"
    r"(?P<word>real|dollar|euro|peso|unit|unidade|unidad|item|order|pedido|orden)\b"
)
_NAME_LABEL = alternation(re.escape(label) for label in lex.NAME_LABELS)
NAME_RE = re.compile(rf"^\s*(?:{_NAME_LABEL})\s*[:\-–—]\s*(?P<name>\S.*)$")
QUOTED_NAME_RE = re.compile(r"\b(?:campaign|campanha|campana)\b[^\"“'«]{0,20}[\"“'«](?P<name>[^\"”'»]{2,120})[\"”'»]")
SECTION_RE = re.compile(
    rf"^\s*(?P<header>{alternation(re.escape(word) for words in lex.SECTIONS.values() for word in words)})"
    r"\s*(?::\s*(?P<rest>.*))?$"
)


@dataclass
class Clause:
    text: str
    fold: str
    section: str | None
    line: int = 0
    used: bytearray = field(init=False)
    words: list[tuple[int, int, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.used = bytearray(len(self.text))
        self.words = [(match.start(), match.end(), match.group(0)) for match in _WORD.finditer(self.fold)]

    def take(self, start: int, end: int) -> None:
        self.used[start:end] = b"\x01" * (end - start)

    def free(self, start: int, end: int) -> bool:
        return not any(self.used[start:end])

    def search(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        return [match for match in pattern.finditer(self.fold) if self.free(match.start(), match.end())]

    def has(self, pattern: re.Pattern[str]) -> bool:
        return bool(self.search(pattern))

    def take_all(self, pattern: re.Pattern[str]) -> int:
        matches = self.search(pattern)
        for match in matches:
            self.take(*match.span())
        return len(matches)


def clauses_split(text: str) -> list[Clause]:
    clauses = []
    section = None
    for line_number, raw_line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n")):
        line = _BULLET.sub("", raw_line).strip()
        if not line:
            continue
        header = SECTION_RE.match(text_fold(line))
        if header:
            section = next(name for name, words in lex.SECTIONS.items() if header.group("header") in words)
            if not (header.group("rest") or "").strip():
                continue
        for sentence in _SENTENCE_END.split(line):
            sentence = sentence.strip().rstrip(".;")
            if sentence:
                clauses.append(Clause(sentence, text_fold(sentence), section, line_number))
    return clauses



def append_unique(target: list[str], values: list[str]) -> None:
    for value in values:
        if value not in target:
            target.append(value)


# ------------------------------------------------------------------------------------------------ names


def _title(words: list[str]) -> str:
    return " ".join(word if any(char.isupper() for char in word) else word.capitalize() for word in words)


_FILTER_KEYWORDS = frozenset({"sku", "skus", "category", "categories", "categoria", "categorias", "line", "lines",
                              "linha", "linhas", "linea", "lineas", "region", "regions", "regiao", "regioes",
                              "regiones", "product"})


def _candidate(clause: Clause, index: int) -> bool:
    start, end, word = clause.words[index]
    return (clause.free(start, end) and word not in lex.FILLER and word not in STOP
            and word not in _FILTER_KEYWORDS and not word[0].isdigit() and word not in lex.MONTHS)


def _capitalised(clause: Clause, index: int) -> bool:
    start, _end, _word = clause.words[index]
    return clause.text[start].isupper() or clause.text[start].isdigit()


def _names_forward(clause: Clause, index: int, *, proper_only: bool) -> list[tuple[str, int, int]]:
    """Names after a keyword: "linha Premium", "regiões Sul e Sudeste", "category Home & Garden"."""
    names: list[tuple[str, int, int]] = []
    i = index
    while i < len(clause.words):
        if not _candidate(clause, i) or (proper_only and not _capitalised(clause, i)):
            break
        run = [i]
        if _capitalised(clause, i):
            while run[-1] + 1 < len(clause.words) and _candidate(clause, run[-1] + 1) \
                    and _capitalised(clause, run[-1] + 1):
                run.append(run[-1] + 1)
        start, end = clause.words[run[0]][0], clause.words[run[-1]][1]
        names.append((clause.text[start:end], start, end))
        i = run[-1] + 1
        if i < len(clause.words) and clause.words[i][2] in _CONJUNCTIONS:
            i += 1
            continue
        if clause.fold[end:end + 1] == "," and i < len(clause.words) and _capitalised(clause, i):
            continue
        break
    return names


def _names_backward(clause: Clause, index: int, *, proper_only: bool) -> list[tuple[str, int, int]]:
    """Names before a keyword: "Premium Line", "the premium line", "Premium and Gold lines"."""
    names: list[tuple[str, int, int]] = []
    i = index
    while i >= 0:
        if not _candidate(clause, i) or (proper_only and not _capitalised(clause, i)):
            break
        run = [i]
        if _capitalised(clause, i):
            while run[0] - 1 >= 0 and _candidate(clause, run[0] - 1) and _capitalised(clause, run[0] - 1):
                run.insert(0, run[0] - 1)
        start, end = clause.words[run[0]][0], clause.words[run[-1]][1]
        names.insert(0, (clause.text[start:end], start, end))
        i = run[0] - 1
        if i >= 0 and clause.words[i][2] in _CONJUNCTIONS:
            i -= 1
            continue
        if i >= 0 and clause.fold[clause.words[i][1]:start].strip() == "," and _capitalised(clause, i):
            continue
        break
    return names


def filters_find(clause: Clause) -> dict[str, list[str]]:
    """Product lines, categories, SKUs and regions named in the clause (their spans are taken)."""
    found: dict[str, list[str]] = {"product_lines": [], "categories": [], "skus": [], "regions": []}
    index = 0
    while index < len(clause.words):
        start, end, word = clause.words[index]
        if not clause.free(start, end):
            index += 1
            continue
        following = clause.words[index + 1][2] if index + 1 < len(clause.words) else ""
        if word in ("line", "lines") or (word == "product" and following in ("line", "lines")):
            keyword_end = clause.words[index + 1][1] if word == "product" else end
            before = index - 1
            names = _names_backward(clause, before, proper_only=False) if before >= 0 else []
            after_index = index + (2 if word == "product" else 1)
            if not names and after_index < len(clause.words):
                names = _names_forward(clause, after_index, proper_only=False)
            if names:
                for name, name_start, name_end in names:
                    append_unique(found["product_lines"], [_line_name(name)])
                    clause.take(name_start, name_end)
                clause.take(start, keyword_end)
            index += 1
            continue
        if word in ("linha", "linhas", "linea", "lineas"):
            after_index = index + 1
            if clause.fold[end:].lstrip().startswith(("de produtos", "de productos")):
                after_index += 2
            names = _names_forward(clause, after_index, proper_only=False) if after_index < len(clause.words) \
                else []
            for name, name_start, name_end in names:
                append_unique(found["product_lines"], [_line_name(name)])
                clause.take(name_start, name_end)
            if names:
                clause.take(start, clause.words[after_index - 1][1])
            index += 1
            continue
        if word in ("category", "categories", "categoria", "categorias"):
            names = _names_forward(clause, index + 1, proper_only=False) if index + 1 < len(clause.words) \
                else []
            if not names and word in ("category", "categories") and index > 0:
                names = _names_backward(clause, index - 1, proper_only=True)
            for name, name_start, name_end in names:
                append_unique(found["categories"], [_title(name.split())])
                clause.take(name_start, name_end)
            if names:
                clause.take(start, end)
            index += 1
            continue
        if word in ("sku", "skus"):
            codes = re.compile(r"\s*:?\s*((?:[a-z0-9][a-z0-9_-]*)(?:\s*(?:,|\band\b|\be\b|\by\b|\bor\b)\s*"
                               r"[a-z0-9][a-z0-9_-]*)*)").match(clause.fold, end)
            if codes and codes.group(1):
                raw = clause.text[codes.start(1):codes.end(1)]
                parts = [part.strip() for part in re.split(r",|\band\b|\be\b|\by\b|\bor\b", raw) if part.strip()]
                append_unique(found["skus"], [part.upper() for part in parts])
                clause.take(start, codes.end(1))
            index += 1
            continue
        if word in ("region", "regions", "regiao", "regioes", "regiones"):
            names = _names_forward(clause, index + 1, proper_only=True) if index + 1 < len(clause.words) else []
            if not names and index > 0:
                names = _names_backward(clause, index - 1, proper_only=True)
            for name, name_start, name_end in names:
                append_unique(found["regions"], [name])
                clause.take(name_start, name_end)
            if names:
                clause.take(start, end)
        index += 1
    return found


def _line_name(name: str) -> str:
    """One spelling for a product line in every language: "linha Premium", "premium line" → "Premium Line"."""
    words = name.split()
    if words and text_fold(words[-1]) in ("line", "linha", "linea"):
        words = words[:-1]
    return f"{_title(words)} Line"


