"""Mounted at ``console/campaigns/`` by incentiva/urls_tenants.py: the admin campaign console (list, monitoring,
the creation wizard). Server-rendered pages for tenant staff; see apps/campaigns/views/console*.py."""

from django.urls import path

from apps.campaigns.views.console import campaign_detail, campaign_execute_now, campaign_list, campaign_runs
from apps.campaigns.views.console_wizard import wizard_feedback, wizard_new, wizard_step

urlpatterns = [
    path("", campaign_list, name="console-campaign-list"),
    path("new/", wizard_new, name="console-wizard-new"),
    path("<uuid:campaign_id>/", campaign_detail, name="console-campaign-detail"),
    path("<uuid:campaign_id>/runs/", campaign_runs, name="console-campaign-runs"),
    path("<uuid:campaign_id>/execute/", campaign_execute_now, name="console-campaign-execute"),
    path("<uuid:campaign_id>/wizard/<slug:step>/", wizard_step, name="console-wizard-step"),
    path("<uuid:campaign_id>/wizard/<slug:step>/feedback/", wizard_feedback, name="console-wizard-feedback"),
]
