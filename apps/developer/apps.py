from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeveloperConfig(AppConfig):
    name = "apps.developer"
    label = "developer"
    verbose_name = _("Developer platform")

    def ready(self) -> None:
        # Registers the OpenAPI security scheme of API keys with drf-spectacular.
        from apps.developer.api import schema  # noqa: F401
