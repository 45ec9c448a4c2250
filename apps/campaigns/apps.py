from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "apps.campaigns"
    label = "campaigns"
    verbose_name = _("Campaigns")

    def ready(self) -> None:
        # Register the execution task in every process (web included): approval schedules it by name, and
        # periodic_task_schedule refuses a task the Celery app does not know.
        from apps.campaigns import tasks  # noqa: F401
        from apps.campaigns.selectors_dashboard import campaign_live_topic_allowed
        from apps.core.live import live_topic_authoriser_register

        # Only a campaign's participants and the tenant's staff hear its live events (apps.core.live asks).
        live_topic_authoriser_register(
            kind="campaign",
            authorise=lambda *, user, object_id: campaign_live_topic_allowed(user=user, campaign_id=object_id))
