"""The wizard's three texts kept as one source text (apps/campaigns/wizard_text.py)."""

from __future__ import annotations

import pytest

from apps.campaigns.wizard_text import WizardTexts, wizard_texts_join, wizard_texts_split


def test_the_three_texts_are_joined_under_headings_in_the_campaigns_language_and_split_back():
    texts = WizardTexts(goals="Meta individual: R$ 50.000.\n\n\nMeta regional: R$ 500.000.",
                        eligibility="Funcionários ativos.", prizes="50.000 pontos: viagem para Cabo.")

    joined = wizard_texts_join(texts=texts, language="pt-br")

    assert joined == ("Metas:\nMeta individual: R$ 50.000.\nMeta regional: R$ 500.000.\n\n"
                      "Elegibilidade:\nFuncionários ativos.\n\nPrêmios:\n50.000 pontos: viagem para Cabo.")
    # Blank lines inside a section separate nothing: they are dropped, the rest comes back as typed.
    assert wizard_texts_split(source_text=joined) == WizardTexts(
        goals="Meta individual: R$ 50.000.\nMeta regional: R$ 500.000.", eligibility="Funcionários ativos.",
        prizes="50.000 pontos: viagem para Cabo.")


def test_empty_sections_are_left_out_and_headings_of_any_language_are_read():
    joined = wizard_texts_join(texts=WizardTexts(goals="Individual goal: $ 1,000.", prizes="Mug: 100 points."),
                               language="en")

    assert joined == "Goals:\nIndividual goal: $ 1,000.\n\nPrizes:\nMug: 100 points."
    assert wizard_texts_split(source_text=joined) == WizardTexts(goals="Individual goal: $ 1,000.",
                                                                 prizes="Mug: 100 points.")
    spanish = "Objetivos:\nMeta individual: 50.000 pesos.\n\nPremios:\nTaza: 100 puntos."
    assert wizard_texts_split(source_text=spanish).prizes == "Taza: 100 puntos."


@pytest.mark.parametrize("text", [
    "Campaign Premium Line Q1 2026, from January 1 to March 31, 2026.\nIndividual goal: 50,000 BRL.",
    "Prizes:\nMug: 100 points.\n\nGoals:\nIndividual goal: $ 1,000.",  # not in the wizard's order
    "Goals:\nIndividual goal: $ 1,000.\n\nSomething else entirely.",
])
def test_a_text_the_wizard_did_not_write_is_shown_whole_as_the_goals(text):
    assert wizard_texts_split(source_text=text) == WizardTexts(goals=text)


def test_replacing_an_unknown_section_is_refused():
    with pytest.raises(ValueError, match="unknown section"):
        WizardTexts().replace("caps", "x")
