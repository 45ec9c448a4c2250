"""The console wizard's three campaign texts (goals, eligibility, prizes) kept as one ``source_text``.

A rule version stores one campaign text; the wizard asks for it in three parts. They are joined under
section headings the rules engine reads as such (``Metas:``, ``Elegibilidade:``, ``Prêmios:``: see
``apps.rules.nl_lexicon.SECTIONS``), so the stored text is also what the parser sees, and split back when
the admin returns to a step. A text that was not written by the wizard (an API client's) is shown whole as
the goals text rather than guessed apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SECTIONS = ("goals", "eligibility", "prizes")
# One heading per section and language; splitting accepts any language's (the campaign's may have changed).
HEADINGS: dict[str, dict[str, str]] = {
    "en": {"goals": "Goals:", "eligibility": "Eligibility:", "prizes": "Prizes:"},
    "pt-br": {"goals": "Metas:", "eligibility": "Elegibilidade:", "prizes": "Prêmios:"},
    "es": {"goals": "Objetivos:", "eligibility": "Elegibilidad:", "prizes": "Premios:"},
}
_BLANK_LINES = re.compile(r"\n\s*\n+")


@dataclass(frozen=True)
class WizardTexts:
    goals: str = ""
    eligibility: str = ""
    prizes: str = ""

    def replace(self, section: str, text: str) -> WizardTexts:
        if section not in SECTIONS:
            raise ValueError(f"unknown section {section!r}")
        values = {name: getattr(self, name) for name in SECTIONS}
        values[section] = text
        return WizardTexts(**values)

    @property
    def empty(self) -> bool:
        return not any(getattr(self, name).strip() for name in SECTIONS)


def _clean(text: str) -> str:
    """One section's text without blank lines (a blank line separates sections) or trailing spaces."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    return _BLANK_LINES.sub("\n", text)


def wizard_texts_join(*, texts: WizardTexts, language: str) -> str:
    """The campaign text the rules engine parses: each non-empty section under its heading."""
    headings = HEADINGS.get(language, HEADINGS["en"])
    parts = [f"{headings[name]}\n{_clean(getattr(texts, name))}" for name in SECTIONS
             if _clean(getattr(texts, name))]
    return "\n\n".join(parts)


def _heading_section(line: str) -> str | None:
    for headings in HEADINGS.values():
        for name, heading in headings.items():
            if line.strip() == heading:
                return name
    return None


def wizard_texts_split(*, source_text: str) -> WizardTexts:
    """The sections of a text ``wizard_texts_join`` wrote; any other text is returned whole as the goals."""
    text = (source_text or "").replace("\r\n", "\n").strip()
    if not text:
        return WizardTexts()
    blocks = text.split("\n\n")
    found: dict[str, str] = {}
    for block in blocks:
        heading, _newline, body = block.partition("\n")
        section = _heading_section(heading)
        if section is None or section in found or not body.strip():
            return WizardTexts(goals=text)
        found[section] = body.strip()
    order = [name for name in SECTIONS if name in found]
    if list(found) != order:  # written in another order: not ours
        return WizardTexts(goals=text)
    return WizardTexts(**found)
