"""Mounted at ``api/`` by incentiva/urls_tenants.py: /api/rules/... and /api/campaigns/{id}/schema...

Each engineer's views live in their own module (views_schema, views_validate, views_generate); add routes
below without reordering the existing ones.
"""

from django.urls import path

from apps.rules.api.views_generate import GenerateCodeView, GenerateView, RuleDocumentSchemaView
from apps.rules.api.views_schema import AnalyzeSchemaView, CampaignSchemaFeedbackView, CampaignSchemaView
from apps.rules.api.views_validate import ValidateView

urlpatterns = [
    path("rules/analyze-schema", AnalyzeSchemaView.as_view(), name="rules-analyze-schema"),
    path("rules/validate", ValidateView.as_view(), name="rules-validate"),
    path("campaigns/<str:campaign_id>/schema", CampaignSchemaView.as_view(), name="campaign-schema"),
    path("campaigns/<str:campaign_id>/schema/feedback", CampaignSchemaFeedbackView.as_view(),
         name="campaign-schema-feedback"),
    path("rules/generate", GenerateView.as_view(), name="rules-generate"),
    path("rules/generate-code", GenerateCodeView.as_view(), name="rules-generate-code"),
    path("rules/schema", RuleDocumentSchemaView.as_view(), name="rules-document-schema"),
]
