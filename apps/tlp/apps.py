from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TLPConfig(AppConfig):
    name = "apps.tlp"
    label = "tlp"
    verbose_name = _("TLP integration")
