"""The console wizard's services: what the campaign creation wizard (``/console/campaigns/``) needs on top of
the campaign, rules and TLP services it calls.

- Goals, eligibility and prizes are three natural-language texts kept in the draft rule version's
  ``source_text`` (``apps.campaigns.wizard_text``); saving one re-parses all three into the version's rule
  document, with the campaign's details (name, period, currency) filling what the text leaves out.
- Live feedback parses the texts as they are being typed without writing anything, with the deterministic
  parser (no model call per keystroke); saving a step uses the rules engine's own choice (Claude when a key is
  configured).
- A schema uploaded or corrected re-parses the texts too: the parser turns conditions the customer's data
  cannot support into questions.
- The review compiles the document against the schema mapping (SQL, plain-language explanation, TLP action
  plan) and proves the SQL read-only, writing nothing; approval itself is ``campaign_approve``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from apps.campaigns.models import Campaign, CampaignRuleVersion
from apps.campaigns.selectors import campaign_open_version, campaign_source_database
from apps.campaigns.selectors_console import wizard_version
from apps.campaigns.services import campaign_rule_version_save, campaign_update
from apps.campaigns.wizard_text import WizardTexts, wizard_texts_join, wizard_texts_split
from apps.core.errors import ApplicationError
from apps.rules.document import DocumentError
from apps.rules.nl_parse import ParseResult, language_normalize
from apps.rules.selectors import mapped_tables, schema_mapping_dict
from apps.rules.services import (
    RuleCode,
    campaign_schema_require,
    campaign_schema_upload,
    rule_code_generate,
    rule_document_from_text,
    schema_feedback_apply,
)
from apps.rules.sql_guard import GuardReport, sql_validate

SCHEMA_FILE_MAX_BYTES = 2 * 1024 * 1024
# Which document errors (by JSON path) each text step answers for: a step cannot be left while they remain.
SECTION_PATHS = {
    "goals": ("$.goals", "$.currency"),
    "eligibility": ("$.eligibility",),
    "prizes": ("$.prizes", "$.caps"),
}


def wizard_language(language: str | None) -> str:
    """en, pt-br or es for ``language`` (a request's, a user's); English for anything else."""
    return language_normalize(language) or "en"


def _defaults(campaign: Campaign) -> dict[str, Any]:
    return {"name": campaign.name, "currency": campaign.currency,
            "period": {"start": campaign.start_date.isoformat(), "end": campaign.end_date.isoformat()}}


def _texts(campaign: Campaign) -> WizardTexts:
    version = wizard_version(campaign=campaign)
    return wizard_texts_split(source_text=version.source_text if version else "")


def _parse(campaign: Campaign, texts: WizardTexts, *, use_ai: bool | None, user: Any) -> ParseResult:
    mapping = schema_mapping_dict(source_schema=campaign.source_schema) if campaign.source_schema_id else None
    return rule_document_from_text(text=wizard_texts_join(texts=texts, language=campaign.language),
                                   language=campaign.language, schema_mapping=mapping, use_ai=use_ai,
                                   defaults=_defaults(campaign), user=user)


def section_errors(*, errors: list[DocumentError], section: str) -> list[DocumentError]:
    """Those of a document's ``errors`` a text step answers for (no goal, a goal without a target, a prize
    without points...)."""
    prefixes = SECTION_PATHS[section]
    return [error for error in errors
            if any(error.path == prefix or error.path.startswith((prefix + ".", prefix + "[")) for prefix in prefixes)]


def wizard_text_feedback(*, campaign: Campaign, section: str, text: str) -> ParseResult:
    """What the rules engine understands of the campaign with ``text`` as ``section`` (the other sections as
    saved). Writes nothing and calls no model: this answers every pause in typing."""
    return _parse(campaign, _texts(campaign).replace(section, text), use_ai=False, user=None)


def wizard_section_save(*, campaign: Campaign, section: str, text: str, user: Any) -> ParseResult:
    """Store ``text`` as ``section`` and the rule document parsed from all three texts in the campaign's
    draft rule version (a running campaign gets a new draft; a pending one goes back to draft). An
    incomplete document is stored too: a draft may be, and the step says what is missing."""
    texts = _texts(campaign).replace(section, text)
    # Parsed before the write: a model call must not hold the campaign's transaction open.
    result = _parse(campaign, texts, use_ai=None, user=user)
    campaign_rule_version_save(campaign=campaign, document=result.document,
                               source_text=wizard_texts_join(texts=texts, language=campaign.language), user=user)
    return result


def _rules_refresh(campaign: Campaign, user: Any) -> None:
    """Re-parse the open version's texts after the details or the schema changed (the name, period, currency
    or the conditions the data supports may differ); nothing is written when the document is the same."""
    version = campaign_open_version(campaign=campaign)
    if version is None or not version.source_text:
        return
    texts = wizard_texts_split(source_text=version.source_text)
    result = _parse(campaign, texts, use_ai=None, user=user)
    if result.document != version.document:
        campaign_rule_version_save(campaign=campaign, document=result.document, source_text=version.source_text,
                                   user=user)


def wizard_details_save(*, campaign: Campaign, user: Any, **fields: Any) -> Campaign:
    """Change the campaign's details (``campaign_update`` decides what a running campaign may change) and bring
    its draft rules in line with them."""
    campaign = campaign_update(campaign=campaign, user=user, **fields)
    _rules_refresh(campaign, user)
    return campaign


def _schema_text(*, file_name: str, content: bytes) -> tuple[str, str]:
    """The uploaded schema as text and its kind (json or ddl). Refuses a file too large or not UTF-8."""
    if len(content) > SCHEMA_FILE_MAX_BYTES:
        raise ApplicationError(_("The schema file is too large (at most 2 MB)."), code="schema_too_large",
                               fields={"file": [_("At most 2 MB.")]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApplicationError(_("The schema file must be UTF-8 text."), code="schema_invalid",
                               fields={"file": [_("Not UTF-8 text.")]}) from exc
    if not text.strip():
        raise ApplicationError(_("The schema file is empty."), code="schema_empty", fields={"file": [_("Empty.")]})
    is_json = file_name.lower().endswith(".json") or text.lstrip()[:1] in ("{", "[")
    return text, "json" if is_json else "ddl"


def wizard_schema_upload(*, campaign: Campaign, user: Any, language: str, file_name: str = "",
                         content: bytes | None = None, dialect: str | None = None,
                         url: str | None = None) -> dict[str, Any]:
    """Attach a schema to the campaign and analyse it: a DDL or JSON file, or a connection to the customer's
    database (PostgreSQL or MySQL/MariaDB, introspected read-only). The admin's corrections of a previous
    schema carry over where they fit. Returns the analysis; input the engine cannot read is refused (400)."""
    if content is not None:
        text, kind = _schema_text(file_name=file_name, content=content)
        _schema, analysis = campaign_schema_upload(
            campaign=campaign, kind=kind, dialect=dialect if kind == "ddl" else None,
            ddl=text if kind == "ddl" else None, description=text if kind == "json" else None, language=language,
            user=user)
    elif url:
        _schema, analysis = campaign_schema_upload(campaign=campaign, kind="connection", url=url, language=language,
                                                   user=user)
    else:
        raise ApplicationError(_("Upload a schema file or enter the database's URL."), code="schema_missing",
                               fields={"file": [_("Choose or drop a file, or fill in the URL below.")]})
    _rules_refresh(campaign, user)
    return analysis


def wizard_schema_correct(*, campaign: Campaign, user: Any, language: str, corrections: dict[str, dict[str, Any]],
                          joins: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply the admin's corrections of the schema mapping and added joins; the analysis is redone (new score
    and questions) and the draft rules re-parsed against it. Invalid corrections are refused (400)."""
    source_schema = campaign_schema_require(campaign=campaign)
    analysis = schema_feedback_apply(source_schema=source_schema, corrections=corrections, joins=joins,
                                     language=language, user=user)
    _rules_refresh(campaign, user)
    return analysis


@dataclass
class WizardReview:
    """What the admin reviews before submitting: the rule document and its text, and, when it compiles, the
    SQL, its explanation, the TLP action plan and the read-only guard's verdict."""

    version: CampaignRuleVersion | None
    dialect: str = ""
    code: RuleCode | None = None
    guard: GuardReport | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.code is not None and not self.errors


def wizard_review_build(*, campaign: Campaign, language: str) -> WizardReview:
    """Compile the version the wizard edits as approval would (the customer database's dialect when one is
    connected, else the schema's) and prove the SQL read-only, statically. Writes nothing."""
    version = wizard_version(campaign=campaign)
    review = WizardReview(version=version)
    if version is None:
        review.errors.append(_("Write the campaign's goals first."))
        return review
    try:
        source_schema = campaign_schema_require(campaign=campaign)
        mapping = schema_mapping_dict(source_schema=source_schema)
        if mapping is None:
            raise ApplicationError(_("Compiling rules needs an analysed schema."), code="schema_missing")
        source = campaign_source_database(campaign=campaign)
        review.dialect = source.engine if source is not None else source_schema.dialect
        review.code = rule_code_generate(document=version.document, schema_mapping=mapping, dialect=review.dialect,
                                         language=language, definition=source_schema.definition)
    except ApplicationError as exc:
        review.errors.append(exc.message)
        review.errors.extend(f"{path}: {message}" for path, messages in exc.fields.items() for message in messages)
        return review
    query = review.code.compiled.participants
    review.guard = sql_validate(sql=query.sql, params=query.params, dialect=review.dialect,
                                definition=source_schema.definition, mapped_tables=mapped_tables(mapping=mapping))
    review.errors.extend(issue.message for issue in review.guard.errors)
    return review
