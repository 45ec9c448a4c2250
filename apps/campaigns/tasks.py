"""Campaign jobs. Beat sends ``campaigns.execute`` into the tenant's schema every campaign's interval."""

from __future__ import annotations

from apps.campaigns.execution import campaign_execute
from apps.campaigns.models import Campaign, CampaignExecution
from apps.campaigns.selectors import campaign_get
from apps.core.jobs import tenant_job


@tenant_job(name="campaigns.execute")
def campaign_execute_task(campaign_id: str) -> str | None:
    """Execute one campaign (safe to run twice: allocation is idempotent); a campaign that stopped running
    is skipped."""
    campaign = campaign_get(campaign_id=campaign_id)
    if campaign is None or campaign.status not in (Campaign.Status.APPROVED, Campaign.Status.ACTIVE):
        return None
    execution = campaign_execute(campaign=campaign, trigger=CampaignExecution.Trigger.SCHEDULED)
    return execution.status
