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
