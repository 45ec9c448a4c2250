"""The rules engine's services: what views, tasks and other apps call.

Schema side (h7): ingest, analyse, feedback, campaign schema, validation — implemented in
``apps.rules.schema_services`` and re-exported here. Language side (h8): text → rule document and rule
document → SQL + explanation + TLP plan, in ``apps.rules.rule_services``, re-exported here too.
"""

from __future__ import annotations

from apps.rules.rule_services import (  # noqa: F401 (re-exported)
    RuleCode,
    rule_code_generate,
    rule_document_from_text,
    schema_summary,
)
from apps.rules.schema_services import (  # noqa: F401 (re-exported)
    ValidationResult,
    campaign_schema_require,
    campaign_schema_upload,
    rules_validate,
    schema_feedback_apply,
    schema_mapping_analyse,
    source_database_of,
    source_schema_ingest,
)
